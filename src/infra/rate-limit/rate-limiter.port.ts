import type Redis from 'ioredis';

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
}

export function refill(tokens: number, last: number, now: number, spec: BucketSpec): number {
  return Math.min(spec.capacity, tokens + ((now - last) / 1000) * spec.refillPerSecond);
}

export class MemoryRateLimiter implements RateLimiterPort {
  readonly kind = 'memory' as const;
  private readonly buckets = new Map<string, { tokens: number; last: number }>();

  async consume(key: string, spec: BucketSpec, cost = 1): Promise<ConsumeResult> {
    const now = Date.now();
    const b = this.buckets.get(key) ?? { tokens: spec.capacity, last: now };
    const tokens = refill(b.tokens, b.last, now, spec);
    const allowed = tokens >= cost;
    const left = allowed ? tokens - cost : tokens;
    this.buckets.set(key, { tokens: left, last: now });
    const retryAfterMs = allowed ? 0 : Math.ceil(((cost - tokens) / spec.refillPerSecond) * 1000);
    return { allowed, remaining: Math.floor(left), retryAfterMs };
  }
}

// One round trip, atomic: the bucket is read, refilled and spent inside Redis with Redis's clock.
const TOKEN_BUCKET_LUA = `
local key = KEYS[1]
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
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
return {allowed, math.floor(tokens), retry}
`;

export class RedisRateLimiter implements RateLimiterPort {
  readonly kind = 'redis' as const;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('sbTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
  }

  async consume(key: string, spec: BucketSpec, cost = 1): Promise<ConsumeResult> {
    const run = (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<[number, number, number]>>)
      .sbTokenBucket;
    const [allowed, remaining, retryAfterMs] = await run.call(
      this.redis,
      `${this.prefix}:rl:${key}`,
      spec.capacity,
      spec.refillPerSecond,
      cost,
    );
    return { allowed: allowed === 1, remaining, retryAfterMs };
  }
}
