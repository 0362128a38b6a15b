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
