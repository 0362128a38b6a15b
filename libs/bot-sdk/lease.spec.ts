import { keepLease, LeaseRenewal } from './lease';

// The renewal loop on a fake clock: when it extends, when it stops, what it says.
describe('keepLease', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const renewal = (extend: () => Promise<boolean>, over: Partial<LeaseRenewal> = {}) => {
    const said: string[] = [];
    const r: LeaseRenewal = {
      everyMs: 1_000,
      forMs: 60_000,
      extend,
      onLost: () => said.push('lost'),
      onFailed: (err) => said.push(`failed ${String(err)}`),
      onGaveUp: () => said.push('gave up'),
      ...over,
    };
    return { r, said };
  };

  it('extends every everyMs until stopped, and not after', async () => {
    const extend = jest.fn(async () => true);
    const { r, said } = renewal(extend);
    const k = keepLease(r);
    await jest.advanceTimersByTimeAsync(999);
    expect(extend).toHaveBeenCalledTimes(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(extend).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(4_000);
    expect(extend).toHaveBeenCalledTimes(5);
    await k.stop();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(extend).toHaveBeenCalledTimes(5);
    expect(said).toEqual([]);
    expect(k.lost).toBe(false);
  });

  it('waits for the renewal in flight before stop() resolves, and does not call it lost after', async () => {
    let answer!: (held: boolean) => void;
    const extend = jest.fn(() => new Promise<boolean>((r) => (answer = r)));
    const { r, said } = renewal(extend);
    const k = keepLease(r);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(extend).toHaveBeenCalledTimes(1);
    let stopped = false;
    const stopping = k.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    // Lands after the stop was asked (the key about to be finished): not a loss.
    answer(false);
    await stopping;
    expect(said).toEqual([]);
    expect(k.lost).toBe(false);
  });

  // setTimeout takes at most 2^31-1 ms: past it Node waits 1 ms instead, which renewed a long lease in a loop.
  it.each([2 ** 31, 7e9 / 3, Infinity])('waits at most 2^31-1 ms between renewals of everyMs %p, not 1 ms', async (everyMs) => {
    const extend = jest.fn(async () => true);
    const { r, said } = renewal(extend, { everyMs, forMs: Infinity });
    const k = keepLease(r);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(extend).toHaveBeenCalledTimes(0);
    await jest.advanceTimersByTimeAsync(2 ** 31 - 1 - 1_000);
    expect(extend).toHaveBeenCalledTimes(1);
    await k.stop();
    expect(said).toEqual([]);
  });

  it('reports a lost lease once and stops renewing', async () => {
    let calls = 0;
    const extend = jest.fn(async () => ++calls < 2);
    const { r, said } = renewal(extend);
    const k = keepLease(r);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(extend).toHaveBeenCalledTimes(2);
    expect(said).toEqual(['lost']);
    expect(k.lost).toBe(true);
    await k.stop();
  });

  it('goes on after a failed renewal (the lease may still hold), reporting each failure', async () => {
    let calls = 0;
    const extend = jest.fn(async () => {
      if (++calls === 2) throw new Error('ECONNRESET');
      return true;
    });
    const { r, said } = renewal(extend);
    const k = keepLease(r);
    await jest.advanceTimersByTimeAsync(3_000);
    expect(extend).toHaveBeenCalledTimes(3);
    expect(said).toEqual(['failed Error: ECONNRESET']);
    expect(k.lost).toBe(false);
    await k.stop();
  });

  it('gives up after forMs, so a stuck handler lets its lease lapse', async () => {
    const extend = jest.fn(async () => true);
    const { r, said } = renewal(extend, { forMs: 3_500 });
    const k = keepLease(r);
    await jest.advanceTimersByTimeAsync(60_000);
    // Renewed at 1, 2 and 3 s; at 4 s it has held the event past forMs.
    expect(extend).toHaveBeenCalledTimes(3);
    expect(said).toEqual(['gave up']);
    await k.stop();
  });
});
