import Redis, { RedisOptions } from 'ioredis';

export const REDIS = Symbol('REDIS');

export function redisOptions(url: string): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    // BullMQ requires this for blocking connections; harmless elsewhere.
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
  };
}

export function connectRedis(url: string, name: string, extra: RedisOptions = {}): Redis {
  return new Redis({ ...redisOptions(url), connectionName: name, lazyConnect: false, ...extra });
}
