import { MemoryRateLimiter } from './rate-limiter.port';

describe('in-process endpoint semaphore', () => {
  it('hands out at most `limit` slots per key and takes them back on release', async () => {
    const rl = new MemoryRateLimiter();
    const a = await rl.tryAcquire('wh:a', 2, 10_000);
    const b = await rl.tryAcquire('wh:a', 2, 10_000);
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    expect(await rl.tryAcquire('wh:a', 2, 10_000)).toBeNull();
    // Another endpoint is not affected.
    expect(await rl.tryAcquire('wh:b', 2, 10_000)).not.toBeNull();
    await rl.release('wh:a', a!);
    expect(await rl.tryAcquire('wh:a', 2, 10_000)).not.toBeNull();
  });

  it('lets a slot a dead holder never released lapse', async () => {
    const rl = new MemoryRateLimiter();
    expect(await rl.tryAcquire('wh:c', 1, 1)).not.toBeNull();
    await new Promise((r) => setTimeout(r, 5));
    expect(await rl.tryAcquire('wh:c', 1, 1000)).not.toBeNull();
  });
});

describe('in-process token buckets', () => {
  afterEach(() => jest.restoreAllMocks());

  it('forgets buckets that have refilled, so keys a caller chooses (login usernames) do not pile up, and keeps those still spent', async () => {
    const rl = new MemoryRateLimiter();
    const spec = { capacity: 10, refillPerSecond: 2 / 60 };
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    for (let i = 0; i < 10; i++) await rl.consume('login:target', spec);
    expect((await rl.consume('login:target', spec)).allowed).toBe(false);
    for (let i = 0; i < 30_000; i++) await rl.consume(`login:guess${i}`, spec);
    // An hour on, every one of those has refilled; the target is refused again, so it is spent still.
    now.mockReturnValue(1_000_000 + 3_600_000);
    for (let i = 0; i < 10; i++) await rl.consume('login:target', spec);
    for (let i = 0; i < 10_000; i++) await rl.consume(`login:later${i}`, spec);
    expect(rl.bucketCount()).toBeLessThan(20_000);
    expect((await rl.consume('login:target', spec)).allowed).toBe(false);
    // A forgotten bucket is a full one.
    expect(await rl.consume('login:guess0', spec)).toMatchObject({ allowed: true, remaining: 9 });
  });
});
