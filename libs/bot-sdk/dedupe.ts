// Where MessengerBot remembers the events it has run, so a redelivered one runs once: in the process by default,
// or somewhere several processes share (Redis) so a redelivery after a restart, or to another replica, is dropped.

/**
 * What a two-phase store says of an event's key when a delivery starts it: `'started'` (it is this delivery's now,
 * in progress for the lease: run it), `'running'` (another delivery holds it in progress), `'done'` (it ran).
 */
export type DedupeStart = 'started' | 'running' | 'done';

/**
 * Remembers event keys for MessengerBot's dedupe. Either of two kinds:
 * - **two-phase** (`start`, `finish`, `release`, and `extend` optionally): `start` takes the key as *in progress*
 *   for `leaseMs` under a token (one per attempt), `extend` renews that lease while the handlers run, `finish` marks
 *   it *done* for `ttlMs` once the event's handlers succeeded, `release` (a handler threw) forgets it if the token
 *   still holds it. A process that dies mid-handler stops renewing and leaves only a lease that lapses, so the
 *   redelivery after it runs. `ack: 'after-handlers'` needs this kind; without `extend` the lease is never renewed.
 * - **one-phase** (`claim`, and `release` optionally): `claim` answers true the first time it sees a key (the
 *   event runs) and false while the key is remembered (a redelivery: dropped). Stores written before two-phase
 *   existed; the bot uses `start`/`finish` whenever a store has them.
 *
 * A call that throws, rejects or doesn't answer in the bot's `dedupeTimeoutMs` is reported and the event runs
 * (fail open).
 */
export interface DedupeStore {
  claim?(key: string, ttlMs: number): boolean | Promise<boolean>;
  start?(key: string, leaseMs: number, token: string): DedupeStart | Promise<DedupeStart>;
  // Marks the key done for ttlMs whoever holds it (the event ran); true if it was still this token's lease, false
  // if the lease had lapsed or another delivery had taken it meanwhile (the event may have run twice).
  finish?(key: string, ttlMs: number, token: string): boolean | Promise<boolean>;
  // Forgets the key so a redelivery runs again; with a token, only while that token's lease holds it.
  release?(key: string, token?: string): void | Promise<void>;
  // Sets the lease to leaseMs from now, only while token holds it; true if it did, false if the lease was lost
  // (lapsed, taken by another delivery, or done).
  extend?(key: string, leaseMs: number, token: string): boolean | Promise<boolean>;
}

/** The store the bot uses by default: the last `max` keys in this process, each for its lease or `ttlMs` at most. */
export function memoryDedupeStore(max = 10_000): Required<DedupeStore> {
  // Insertion order is claim order: the first key is the oldest, forgotten first. No token: done.
  const keys = new Map<string, { until: number; token?: string }>();
  const live = (key: string) => {
    const e = keys.get(key);
    return e && e.until > Date.now() ? e : undefined;
  };
  const put = (key: string, ms: number, token?: string) => {
    keys.delete(key);
    keys.set(key, { until: Date.now() + ms, token });
    while (keys.size > max) keys.delete(keys.keys().next().value as string);
  };
  return {
    claim(key, ttlMs) {
      if (live(key)) return false;
      put(key, ttlMs);
      return true;
    },
    start(key, leaseMs, token) {
      const e = live(key);
      if (e) return e.token === undefined ? 'done' : 'running';
      put(key, leaseMs, token);
      return 'started';
    },
    finish(key, ttlMs, token) {
      const mine = live(key)?.token === token;
      put(key, ttlMs);
      return mine;
    },
    release(key, token) {
      if (token === undefined || keys.get(key)?.token === token) keys.delete(key);
    },
    extend(key, leaseMs, token) {
      if (token === undefined || live(key)?.token !== token) return false;
      put(key, leaseMs, token);
      return true;
    },
  };
}

/**
 * What redisDedupeStore needs of a Redis client: ioredis as it is (`new Redis(url)`). For node-redis (v4+), whose
 * commands take options objects, pass `{ set: (k, v, _px, ms) => client.set(k, v, { PX: ms, NX: true }),
 * del: (k) => client.del(k), eval: (s, n, ...a) => client.eval(s, { keys: a.slice(0, n).map(String), arguments:
 * a.slice(n).map(String) }) }`.
 */
export interface RedisSetNxClient {
  // SET key value PX ms NX: 'OK' when it was set, null when the key was there.
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<unknown>;
  // Without it (or eval) a claim can't be released: a redelivery of an event whose handler threw is dropped until the TTL.
  del?(key: string): Promise<unknown>;
  // EVAL script numKeys key… arg…: with it the store is two-phase (in progress under a lease, then done), as
  // ack: 'after-handlers' needs; without it, one-phase (SET NX for the whole TTL).
  eval?(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

export interface RedisDedupeOptions {
  // Put before every key. One per bot (app): two apps on one Page get the same events, so a shared prefix would
  // run each event for one of them only. The replicas of one bot share it.
  prefix?: string;
  // How long a done key is kept; by default what the bot asks (its dedupeTtlMs).
  ttlMs?: number;
}

// A key in progress holds `run:<token>`; a done key holds '1', as one-phase claims (and earlier versions) write it,
// so one-phase and two-phase stores on the same keys read each other's. (Replicas of SDK versions that key messages
// differently, by digest before and by mid now, don't: see the README.) Each script is one atomic step.
const START = `local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 'started' end
if string.sub(v, 1, 4) == 'run:' then return 'running' end
return 'done'`;
// Done whoever holds it: this delivery's handlers succeeded, so a later redelivery is dropped even if another
// delivery took the lapsed lease (and that one's release can no longer forget it).
const FINISH = `local v = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
if v == ARGV[1] then return 1 end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`;
// Only the holder's token renews: a replica whose lease lapsed and was taken can't extend the new holder's.
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`;

/** A DedupeStore in Redis, on a client you pass in: replicas and restarts of a bot share what ran. */
export function redisDedupeStore(
  client: RedisSetNxClient,
  options: RedisDedupeOptions = {},
): DedupeStore & Pick<Required<DedupeStore>, 'claim'> {
  const prefix = options.prefix ?? 'bot-sdk:dedupe:';
  const ms = (n: number) => Math.max(1, Math.ceil(n));
  const del = client.del?.bind(client);
  const run = client.eval?.bind(client);
  const claim = async (key: string, ttlMs: number) => {
    const reply = await client.set(prefix + key, '1', 'PX', ms(options.ttlMs ?? ttlMs), 'NX');
    if (reply === 'OK') return true;
    if (reply === null) return false;
    // Not an answer SET NX gives: failing (the event runs, reported) beats dropping it on a guess.
    throw new Error(`unexpected reply to SET NX: ${JSON.stringify(reply)}`);
  };
  if (run) {
    return {
      claim,
      async start(key, leaseMs, token) {
        const reply = await run(START, 1, prefix + key, `run:${token}`, ms(leaseMs));
        if (reply === 'started' || reply === 'running' || reply === 'done') return reply;
        throw new Error(`unexpected reply to the start script: ${JSON.stringify(reply)}`);
      },
      async finish(key, ttlMs, token) {
        return (await run(FINISH, 1, prefix + key, `run:${token}`, ms(options.ttlMs ?? ttlMs))) === 1;
      },
      async release(key, token) {
        if (token === undefined) await run(`redis.call('DEL', KEYS[1]) return 0`, 1, prefix + key);
        else await run(RELEASE, 1, prefix + key, `run:${token}`);
      },
      async extend(key, leaseMs, token) {
        return (await run(EXTEND, 1, prefix + key, `run:${token}`, ms(leaseMs))) === 1;
      },
    };
  }
  return {
    claim,
    ...(del
      ? {
          async release(key: string) {
            await del(prefix + key);
          },
        }
      : {}),
  };
}
