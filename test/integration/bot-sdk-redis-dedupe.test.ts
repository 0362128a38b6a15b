import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { redisDedupeStore } from '../../libs/bot-sdk';
import { TEST_REDIS_URL } from '../support/services';
import { waitFor } from '../support/wait-for';

// libs/bot-sdk's Redis store on a real Redis: its scripts are what the unit tests can only fake.
describe('redisDedupeStore on Redis', () => {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = `bot-sdk-dedupe-test:${randomUUID()}:`;
  const store = redisDedupeStore(redis, { prefix });
  const start = store.start!;
  const finish = store.finish!;
  const release = store.release!;

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('holds a key in progress under a lease, then done for the TTL once finished', async () => {
    expect(await start('k', 60_000, 't1')).toBe('started');
    // A lease, not a key for good (-1) or none (-2).
    const lease = await redis.pttl(`${prefix}k`);
    expect(lease).toBeGreaterThan(0);
    expect(lease).toBeLessThanOrEqual(60_000);
    expect(await start('k', 60_000, 't2')).toBe('running');
    expect(await finish('k', 86_400_000, 't1')).toBe(true);
    expect(await redis.pttl(`${prefix}k`)).toBeGreaterThan(60_000);
    expect(await start('k', 60_000, 't3')).toBe('done');
  });

  it('releases only for the holder of the lease', async () => {
    expect(await start('r', 60_000, 't1')).toBe('started');
    await release('r', 't2');
    expect(await start('r', 60_000, 't2')).toBe('running');
    await release('r', 't1');
    expect(await start('r', 60_000, 't2')).toBe('started');
  });

  it('frees a lapsed lease for the next delivery; a late finish still marks it done, and says it was not its own', async () => {
    expect(await start('l', 1, 't1')).toBe('started');
    await waitFor('the lease to lapse', async () => (await redis.exists(`${prefix}l`)) === 0);
    expect(await start('l', 60_000, 't2')).toBe('started');
    expect(await finish('l', 60_000, 't1')).toBe(false);
    expect(await start('l', 60_000, 't3')).toBe('done');
  });

  it('reads one-phase claims (earlier versions) as done, and they read a lease as taken', async () => {
    expect(await store.claim('old', 60_000)).toBe(true);
    expect(await start('old', 60_000, 't1')).toBe('done');
    expect(await start('new', 60_000, 't1')).toBe('started');
    expect(await store.claim('new', 60_000)).toBe(false);
  });
});
