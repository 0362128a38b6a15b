import { withDeadline } from './deadline';

describe('withDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('answers what the work answers before the deadline, and leaves no timer behind', async () => {
    await expect(withDeadline(Promise.resolve(7), 1000, () => new Error('late'))).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('own')), 1000, () => new Error('late'))).rejects.toThrow('own');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects with the late error once the deadline passes, whatever the work does after', async () => {
    let finish!: (v: number) => void;
    const work = new Promise<number>((r) => (finish = r));
    const bounded = withDeadline(work, 500, () => new Error('late'));
    const outcome = bounded.then(
      (v) => `value ${v}`,
      (e: Error) => e.message,
    );
    jest.advanceTimersByTime(499);
    await Promise.resolve();
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(1);
    expect(await outcome).toBe('late');
    finish(1);
    await expect(work).resolves.toBe(1);
  });

  it('waits as long as the work takes when the deadline is 0', async () => {
    let finish!: (v: string) => void;
    const bounded = withDeadline(new Promise<string>((r) => (finish = r)), 0, () => new Error('late'));
    expect(jest.getTimerCount()).toBe(0);
    finish('done');
    await expect(bounded).resolves.toBe('done');
  });
});
