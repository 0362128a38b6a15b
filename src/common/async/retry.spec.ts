import { retryTransient } from './retry';

class Away extends Error {}
const retryable = (err: unknown) => err instanceof Away;

// Fails with each error in turn, then answers 'done'.
function failing(...errors: Error[]) {
  const calls: number[] = [];
  const work = async () => {
    calls.push(Date.now());
    const err = errors.shift();
    if (err) throw err;
    return 'done';
  };
  return { work, calls };
}

describe('retryTransient', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('tries again after doubling pauses while the failure is retryable, and answers the first success', async () => {
    const { work, calls } = failing(new Away('1'), new Away('2'), new Away('3'));
    const delays: number[] = [];
    const result = retryTransient(work, { retryable, deadline: Date.now() + 60_000, firstDelayMs: 100, onRetry: (_e, _n, d) => delays.push(d) });
    await jest.advanceTimersByTimeAsync(700);
    await expect(result).resolves.toBe('done');
    expect(delays).toEqual([100, 200, 400]);
    expect(calls.map((t) => t - calls[0])).toEqual([0, 100, 300, 700]);
  });

  it('caps the pause at maxDelayMs', async () => {
    const { work } = failing(new Away(), new Away(), new Away(), new Away());
    const delays: number[] = [];
    const result = retryTransient(work, { retryable, deadline: Date.now() + 60_000, firstDelayMs: 100, maxDelayMs: 250, onRetry: (_e, _n, d) => delays.push(d) });
    await jest.advanceTimersByTimeAsync(1000);
    await expect(result).resolves.toBe('done');
    expect(delays).toEqual([100, 200, 250, 250]);
  });

  it('throws a failure that is not retryable at once, without a pause', async () => {
    const { work, calls } = failing(new Error('a bug'));
    await expect(retryTransient(work, { retryable, deadline: Date.now() + 60_000 })).rejects.toThrow('a bug');
    expect(calls).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('gives up with the last error at the deadline, never pausing past it', async () => {
    const { work, calls } = failing(...Array.from({ length: 20 }, (_, i) => new Away(`away ${i}`)));
    const start = Date.now();
    const result = retryTransient(work, { retryable, deadline: start + 1000, firstDelayMs: 300 });
    const outcome = result.catch((e: Error) => e.message);
    await jest.advanceTimersByTimeAsync(2000);
    // Tries at 0, 300 and 900; the next pause is cut to the 100 ms left, and the try at 1000 is the last.
    expect(calls.map((t) => t - start)).toEqual([0, 300, 900, 1000]);
    expect(await outcome).toBe('away 3');
  });

  it('gives up after the first try that fails once told to stop', async () => {
    let stopping = false;
    const { work, calls } = failing(new Away('first'), new Away('second'), new Away('third'), new Away('fourth'));
    const result = retryTransient(work, { retryable, deadline: Date.now() + 60_000, firstDelayMs: 100, stop: () => stopping });
    const outcome = result.catch((e: Error) => e.message);
    await jest.advanceTimersByTimeAsync(150);
    // Told during the pause after 'second': the try that pause leads to is the last.
    stopping = true;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(await outcome).toBe('third');
    expect(calls).toHaveLength(3);
    expect(jest.getTimerCount()).toBe(0);
  });
});
