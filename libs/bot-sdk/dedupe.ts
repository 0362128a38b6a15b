// Where MessengerBot remembers the events it has run, so a redelivered one runs once: in the process by default,
// or somewhere several processes share (Redis) so a redelivery after a restart, or to another replica, is dropped.

/**
 * Remembers event keys for MessengerBot's dedupe. `claim` answers true the first time it sees a key (the event
 * runs) and false while the key is remembered (a redelivery: dropped); a claim that throws or rejects is reported
 * and the event runs (fail open). `release`, if there is one, forgets a key: the bot calls it when a handler threw,
 * so a redelivery of that event runs again.
 */
export interface DedupeStore {
  claim(key: string, ttlMs: number): boolean | Promise<boolean>;
  release?(key: string): void | Promise<void>;
}

/** The store the bot uses by default: the last `max` keys in this process, each for `ttlMs` at most. */
export function memoryDedupeStore(max = 10_000): DedupeStore {
  // Insertion order is claim order: the first key is the oldest, forgotten first.
  const seen = new Map<string, number>();
  return {
    claim(key, ttlMs) {
      const now = Date.now();
      const until = seen.get(key);
      if (until !== undefined && until > now) return false;
      seen.delete(key);
      seen.set(key, now + ttlMs);
      while (seen.size > max) seen.delete(seen.keys().next().value as string);
      return true;
    },
    release(key) {
      seen.delete(key);
    },
  };
}

/**
 * What redisDedupeStore needs of a Redis client: ioredis as it is (`new Redis(url)`). For node-redis (v4+), whose
 * `set` takes an options object, pass `{ set: (k, v, _px, ms) => client.set(k, v, { PX: ms, NX: true }),
 * del: (k) => client.del(k) }`.
 */
export interface RedisSetNxClient {
  // SET key value PX ms NX: 'OK' when it was set, null when the key was there.
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<unknown>;
  // Without it a claim can't be released: a redelivery of an event whose handler threw is dropped until the TTL.
  del?(key: string): Promise<unknown>;
}

export interface RedisDedupeOptions {
  // Put before every key. One per bot (app): two apps on one Page get the same events, so a shared prefix would
  // run each event for one of them only. The replicas of one bot share it.
  prefix?: string;
  // How long a key is kept; by default what the bot asks (its dedupeTtlMs).
  ttlMs?: number;
}

/** A DedupeStore in Redis, on a client you pass in (SET NX PX): replicas and restarts of a bot share what ran. */
export function redisDedupeStore(client: RedisSetNxClient, options: RedisDedupeOptions = {}): DedupeStore {
  const prefix = options.prefix ?? 'bot-sdk:dedupe:';
  const del = client.del?.bind(client);
  return {
    async claim(key, ttlMs) {
      const reply = await client.set(prefix + key, '1', 'PX', Math.max(1, Math.ceil(options.ttlMs ?? ttlMs)), 'NX');
      if (reply === 'OK') return true;
      if (reply === null) return false;
      // Not an answer SET NX gives: failing (the event runs, reported) beats dropping it on a guess.
      throw new Error(`unexpected reply to SET NX: ${JSON.stringify(reply)}`);
    },
    ...(del
      ? {
          async release(key: string) {
            await del(prefix + key);
          },
        }
      : {}),
  };
}
