import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { DependencyUnavailableError } from '../../common/errors/dependency-unavailable';

export const RATE_LIMITER = Symbol('RATE_LIMITER');

export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

export interface ConsumeResult {
  allowed: boolean;
  remaining: number;
  retryAfterMs: number;
}

// Token buckets shared by every api process (Redis) or one process (embedded default).
export interface RateLimiterPort {
  readonly kind: 'redis' | 'memory';
  consume(key: string, spec: BucketSpec, cost?: number): Promise<ConsumeResult>;
  // Several buckets in one round trip, each spent on its own (as separate consume calls would).
  consumeEach(buckets: { key: string; spec: BucketSpec }[], cost?: number): Promise<ConsumeResult[]>;
  // A counting semaphore: a slot token when fewer than `limit` are held, else null. A slot a dead process never
  // released lapses after `ttlMs`.
  tryAcquire(key: string, limit: number, ttlMs: number): Promise<string | null>;
  release(key: string, token: string): Promise<void>;
}

export function refill(tokens: number, last: number, now: number, spec: BucketSpec): number {
  return Math.min(spec.capacity, tokens + ((now - last) / 1000) * spec.refillPerSecond);
}

// The in-process map is swept of refilled buckets once it doubles past this many: keys can be the caller's choice
// (a login's username), and a full bucket is the same as none.
const MEMORY_BUCKETS_SWEEP_AT = 10_000;

export class MemoryRateLimiter implements RateLimiterPort {
  readonly kind = 'memory' as const;
  // `fullAt`: when it has refilled to capacity (ms).
  private readonly buckets = new Map<string, { tokens: number; last: number; fullAt: number }>();
  private sweepAt = MEMORY_BUCKETS_SWEEP_AT;
  private readonly slots = new Map<string, Map<string, number>>();
  private slotSeq = 0;

  async tryAcquire(key: string, limit: number, ttlMs: number): Promise<string | null> {
    const now = Date.now();
    let held = this.slots.get(key);
    if (!held) this.slots.set(key, (held = new Map()));
    for (const [t, exp] of held) if (exp <= now) held.delete(t);
    if (held.size >= limit) return null;
    const token = `m${++this.slotSeq}`;
    held.set(token, now + ttlMs);
    return token;
  }

  async release(key: string, token: string): Promise<void> {
    const held = this.slots.get(key);
    held?.delete(token);
    if (held && !held.size) this.slots.delete(key);
  }

  async consumeEach(buckets: { key: string; spec: BucketSpec }[], cost = 1): Promise<ConsumeResult[]> {
    return Promise.all(buckets.map((b) => this.consume(b.key, b.spec, cost)));
  }

  bucketCount(): number {
    return this.buckets.size;
  }

  async consume(key: string, spec: BucketSpec, cost = 1): Promise<ConsumeResult> {
    const now = Date.now();
    const b = this.buckets.get(key) ?? { tokens: spec.capacity, last: now };
    const tokens = refill(b.tokens, b.last, now, spec);
    const allowed = tokens >= cost;
    const left = allowed ? tokens - cost : tokens;
    this.buckets.set(key, { tokens: left, last: now, fullAt: now + ((spec.capacity - left) / spec.refillPerSecond) * 1000 });
    const retryAfterMs = allowed ? 0 : Math.ceil(((cost - tokens) / spec.refillPerSecond) * 1000);
    if (this.buckets.size >= this.sweepAt) this.sweep(now);
    return { allowed, remaining: Math.floor(left), retryAfterMs };
  }

  // Doubling the threshold keeps a flood of live buckets from paying a sweep on every call.
  private sweep(now: number): void {
    for (const [key, b] of this.buckets) if (b.fullAt <= now) this.buckets.delete(key);
    this.sweepAt = Math.max(MEMORY_BUCKETS_SWEEP_AT, this.buckets.size * 2);
  }
}

// One round trip, atomic: each bucket (KEYS[i], with capacity ARGV[2i] and rate ARGV[2i+1]) is read, refilled and
// spent inside Redis with Redis's clock. ARGV[1] is the cost.
const TOKEN_BUCKET_LUA = `
local cost = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[2 * i])
  local rate = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 'tokens', 'last')
  local tokens = tonumber(state[1]) or capacity
  local last = tonumber(state[2]) or now
  tokens = math.min(capacity, tokens + ((now - last) / 1000) * rate)
  local allowed = 0
  if tokens >= cost then
    tokens = tokens - cost
    allowed = 1
  end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'last', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(capacity / rate * 1000) + 1000)
  local retry = 0
  if allowed == 0 then retry = math.ceil((cost - tokens) / rate * 1000) end
  table.insert(out, {allowed, math.floor(tokens), retry})
end
return out
`;

// Slots are members of a ZSET scored by expiry, with Redis's clock: expired ones are dropped before counting.
const SEMAPHORE_LUA = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local token = ARGV[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, now + ttl, token)
redis.call('PEXPIRE', key, ttl + 1000)
return 1
`;

export class RedisRateLimiter implements RateLimiterPort {
  readonly kind = 'redis' as const;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('sbTokenBuckets', { lua: TOKEN_BUCKET_LUA });
    redis.defineCommand('sbSemaphore', { numberOfKeys: 1, lua: SEMAPHORE_LUA });
  }

  async tryAcquire(key: string, limit: number, ttlMs: number): Promise<string | null> {
    const run = (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<number>>).sbSemaphore;
    const token = randomUUID();
    const ok = await run.call(this.redis, `${this.prefix}:sem:${key}`, limit, ttlMs, token);
    return ok === 1 ? token : null;
  }

  async release(key: string, token: string): Promise<void> {
    await this.redis.zrem(`${this.prefix}:sem:${key}`, token);
  }

  async consume(key: string, spec: BucketSpec, cost = 1): Promise<ConsumeResult> {
    return (await this.consumeEach([{ key, spec }], cost))[0];
  }

  async consumeEach(buckets: { key: string; spec: BucketSpec }[], cost = 1): Promise<ConsumeResult[]> {
    const run = (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<[number, number, number][]>>)
      .sbTokenBuckets;
    const keys = buckets.map((b) => `${this.prefix}:rl:${b.key}`);
    const args = buckets.flatMap((b) => [b.spec.capacity, b.spec.refillPerSecond]);
    // defineCommand without numberOfKeys takes the key count first.
    let rows: [number, number, number][];
    try {
      rows = await run.call(this.redis, keys.length, ...keys, cost, ...args);
    } catch (err) {
      // Redis away (REDIS_COMMAND_TIMEOUT_MS) or failing: refused before anything is written, so a retry is safe.
      throw new DependencyUnavailableError('RATE_LIMIT.UNAVAILABLE', `Rate limits cannot be checked now (${(err as Error).message}): try again`);
    }
    return rows.map(([allowed, remaining, retryAfterMs]) => ({ allowed: allowed === 1, remaining, retryAfterMs }));
  }
}
