import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { signMessenger, toMessengerJson } from '../webhook-signature';
import { BotEvent, BotOptions, DedupeLeaseLostError, DedupeStoreError, MessengerBot } from './bot';
import { DedupeStore, memoryDedupeStore, redisDedupeStore, RedisSetNxClient } from './dedupe';
import { GraphApiError, GraphClient } from './graph-client';

const SECRET = 'app-secret';
const PAGE = '111';

const body = (items: Record<string, unknown>[], standby: Record<string, unknown>[] = []) =>
  Buffer.from(JSON.stringify({ object: 'page', entry: [{ id: PAGE, time: 1, messaging: items, ...(standby.length ? { standby } : {}) }] }));
const signed = (raw: Buffer) => ({ 'x-hub-signature-256': signMessenger(raw, SECRET)['x-hub-signature-256'] });
const post = (bot: MessengerBot, raw: Buffer, headers: Record<string, string> = signed(raw)) => bot.handle({ method: 'POST', url: '/webhook', headers, body: raw });
const msg = (psid: string, mid: string, text: string) => ({ sender: { id: psid }, recipient: { id: PAGE }, timestamp: 5, message: { mid, text } });

describe('MessengerBot webhooks', () => {
  const bot = () => new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', verifyToken: 'vt', graphUrl: 'http://127.0.0.1:1' });

  it("answers Graph's handshake only with the verify token", async () => {
    const b = bot();
    expect(await b.handle({ method: 'GET', url: '/webhook?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=42', headers: {}, body: Buffer.alloc(0) })).toEqual({ status: 200, body: '42' });
    expect((await b.handle({ method: 'GET', url: '/webhook?hub.mode=subscribe&hub.verify_token=no&hub.challenge=42', headers: {}, body: Buffer.alloc(0) })).status).toBe(403);
  });

  it('dispatches a signed body by kind, the person named, and refuses an unsigned one unread', async () => {
    const b = bot();
    const got: BotEvent[] = [];
    b.on('*', (e) => void got.push(e));
    const raw = body(
      [
        msg('7', 'm_1', 'hi'),
        { sender: { id: PAGE }, recipient: { id: '7' }, timestamp: 6, message: { mid: 'm_2', is_echo: true, text: 'hello' } },
        { sender: { id: '7' }, recipient: { id: PAGE }, timestamp: 7, postback: { title: 'Go', payload: 'GO' } },
        { sender: { id: '7' }, recipient: { id: PAGE }, timestamp: 7.5, template: { type: 'coupon', payload: 'SUMMER', coupon_code: '10OFF' } },
        {
          sender: { id: '7' },
          recipient: { id: PAGE },
          timestamp: 7.7,
          messaging_feedback: { feedback_screens: [{ screen_id: 0, questions: { q1: { type: 'nps', payload: '9' } } }] },
        },
        // Marketing messages' opt-in (messaging_optins).
        { sender: { id: '7' }, recipient: { id: PAGE }, timestamp: 7.8, optin: { type: 'notification_messages', payload: 'DEALS', notification_messages_token: 't' } },
        { recipient: { id: PAGE }, timestamp: 8, policy_enforcement: { action: 'warning', reason: 'r' } },
        { sender: { id: '7' }, recipient: { id: PAGE }, timestamp: 9, unknown_thing: {} },
      ],
      [msg('8', 'm_3', 'to another app')],
    );
    expect(await post(b, raw, { 'x-hub-signature-256': 'sha256=00' })).toEqual({ status: 401, body: 'bad signature' });
    await b.idle();
    expect(got).toEqual([]);
    expect(await post(b, raw)).toEqual({ status: 200, body: 'EVENT_RECEIVED' });
    await b.idle();
    // Each person's in order; other people's (and the Page's own) run beside them.
    expect(got.filter((e) => e.psid === '7').map((e) => [e.kind, e.timestamp])).toEqual([
      ['message', 5],
      ['echo', 6],
      ['postback', 7],
      ['template', 7.5],
      ['feedback', 7.7],
      ['optin', 7.8],
    ]);
    expect(got.filter((e) => e.psid !== '7').map((e) => [e.kind, e.psid])).toEqual(
      expect.arrayContaining([
        ['policy_enforcement', undefined],
        ['standby', '8'],
      ]),
    );
    expect(got).toHaveLength(8);
    expect(got[0].pageId).toBe(PAGE);
  });


  it('names the person of an echo on standby (the controller\'s or the Page Inbox\'s send) by its recipient', async () => {
    const b = bot();
    const got: BotEvent[] = [];
    b.on('standby', (e) => void got.push(e));
    const echo = { sender: { id: PAGE }, recipient: { id: '7' }, timestamp: 6, message: { mid: 'm_9', is_echo: true, app_id: 263902037430900, text: 'hi' } };
    expect(await post(b, body([], [msg('7', 'm_8', 'hello'), echo]))).toEqual({ status: 200, body: 'EVENT_RECEIVED' });
    await b.idle();
    expect(got.map((e) => [e.kind, e.psid, e.timestamp])).toEqual([
      ['standby', '7', 5],
      ['standby', '7', 6],
    ]);
  });
  it('runs a redelivered event once, each person in order, and others meanwhile', async () => {
    const b = bot();
    const log: string[] = [];
    b.on('message', async (e) => {
      const text = (e.item.message as { text: string }).text;
      log.push(`start ${text}`);
      if (text === 'slow') await new Promise((r) => setTimeout(r, 50));
      log.push(`end ${text}`);
    });
    const first = body([msg('7', 'm_1', 'slow')]);
    await post(b, first);
    await post(b, first);
    await post(b, body([msg('7', 'm_2', 'after')]));
    await post(b, body([msg('8', 'm_3', 'other person')]));
    await b.idle();
    expect(log.filter((l) => l.endsWith('slow'))).toEqual(['start slow', 'end slow']);
    expect(log.indexOf('start after')).toBeGreaterThan(log.indexOf('end slow'));
    expect(log.indexOf('end other person')).toBeLessThan(log.indexOf('end slow'));
  });

  it("reports a handler's error and goes on", async () => {
    const errors: unknown[] = [];
    const b = new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', onError: (err) => errors.push(err) });
    const seen: string[] = [];
    b.on('message', () => {
      throw new Error('boom');
    });
    b.on('message', (e) => void seen.push(e.psid!));
    await post(b, body([msg('7', 'm_1', 'x')]));
    await b.idle();
    expect(errors).toEqual([new Error('boom')]);
    expect(seen).toEqual(['7']);
  });

  it("lets a person's next event go on when a handler never finishes", async () => {
    const errors: unknown[] = [];
    // Renewals off: the hung handler outlives the test file, and its lease with it.
    const b = new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', handlerTimeoutMs: 30, dedupeLeaseRenewMs: 0, onError: (err) => errors.push(err) });
    const handled: string[] = [];
    b.on('message', (e) => {
      const text = (e.item.message as { text: string }).text;
      handled.push(text);
      return text === 'hang' ? new Promise(() => undefined) : undefined;
    });
    await post(b, body([msg('7', 'm_1', 'hang')]));
    await post(b, body([msg('7', 'm_2', 'next')]));
    await b.idle();
    expect(handled).toEqual(['hang', 'next']);
    expect(errors).toEqual([new Error('a message handler ran longer than 30 ms')]);
  });

  it('serves node:http with the raw body, and refuses one too large', async () => {
    const b = new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', maxBodyBytes: 2000 });
    const got: string[] = [];
    b.on('message', (e) => void got.push((e.item.message as { text: string }).text));
    const server = createServer(b.listener());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
    try {
      // Non-ASCII escaped as Meta writes it: verified over the bytes as sent.
      const raw = Buffer.from(toMessengerJson({ object: 'page', entry: [{ id: PAGE, messaging: [msg('7', 'm_1', 'café')] }] }));
      expect(raw.toString()).toContain('caf\\u00e9');
      const res = await fetch(url, { method: 'POST', headers: signed(raw), body: raw });
      expect([res.status, await res.text()]).toEqual([200, 'EVENT_RECEIVED']);
      await b.idle();
      expect(got).toEqual(['café']);
      const big = Buffer.alloc(3000, 'x');
      expect((await fetch(url, { method: 'POST', headers: signed(big), body: big })).status).toBe(413);
    } finally {
      server.close();
    }
  });
});

// Redis's SET NX PX and DEL, in a Map: what redisDedupeStore asks of ioredis.
function fakeRedis(): RedisSetNxClient & { keys: Map<string, number> } {
  const keys = new Map<string, number>();
  return {
    keys,
    async set(key, _value, _px, ms) {
      if ((keys.get(key) ?? 0) > Date.now()) return null;
      keys.set(key, Date.now() + ms);
      return 'OK';
    },
    async del(key) {
      return keys.delete(key) ? 1 : 0;
    },
  };
}

// Date.now (the in-memory store's clock) moved forward by the test: a lease lapses without waiting for it.
async function withClock(test: (advance: (ms: number) => void) => Promise<void>): Promise<void> {
  let skew = 0;
  const now = Date.now.bind(Date);
  const clock = jest.spyOn(Date, 'now').mockImplementation(() => now() + skew);
  try {
    await test((ms) => (skew += ms));
  } finally {
    clock.mockRestore();
  }
}

// Lets the microtasks and I/O callbacks queued so far run, until `cond` holds.
async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error(`never: ${what}`);
}

describe('MessengerBot dedupe stores', () => {
  const make = (opts: Partial<BotOptions> = {}) => new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', ...opts });

  it('drops a redelivery to another instance sharing the store (a replica, or the bot after a restart)', async () => {
    const redis = fakeRedis();
    const ran: string[] = [];
    const a = make({ dedupeStore: redisDedupeStore(redis, { prefix: 'bot:' }) });
    const b = make({ dedupeStore: redisDedupeStore(redis, { prefix: 'bot:' }) });
    a.on('message', (e) => void ran.push(`a ${(e.item.message as { text: string }).text}`));
    b.on('message', (e) => void ran.push(`b ${(e.item.message as { text: string }).text}`));
    const first = body([msg('7', 'm_1', 'hi')]);
    await post(a, first);
    await a.idle();
    await post(b, first);
    await post(b, body([msg('7', 'm_2', 'new')]));
    await b.idle();
    expect(ran).toEqual(['a hi', 'b new']);
    // Remembered for the bot's dedupeTtlMs (24 h), under the prefix.
    expect([...redis.keys.keys()].every((k) => k.startsWith('bot:'))).toBe(true);
    const ttl = Math.max(...redis.keys.values()) - Date.now();
    expect(ttl).toBeGreaterThan(86_000_000);
    expect(ttl).toBeLessThanOrEqual(86_400_000);
  });

  it('knows a redelivered message by its mid, though its attachment URLs were signed again', async () => {
    const ran: string[] = [];
    const b = make();
    b.on('message', (e) => void ran.push((e.item.message as { mid: string }).mid));
    const image = (exp: number) => ({
      sender: { id: '7' },
      recipient: { id: PAGE },
      timestamp: 5,
      message: { mid: 'm_1', attachments: [{ type: 'image', payload: { url: `https://sb.example/media/1/display.jpg?exp=${exp}&sig=s${exp}` } }] },
    });
    await post(b, body([image(100)]));
    await post(b, body([image(160)]));
    await post(b, body([{ ...image(160), message: { mid: 'm_2', text: 'another' } }]));
    await b.idle();
    expect(ran).toEqual(['m_1', 'm_2']);
  });

  it('runs the event when the store fails or does not answer, and reports it', async () => {
    const errors: unknown[] = [];
    const ran: string[] = [];
    let mode: 'reject' | 'throw' | 'hang' = 'reject';
    const store: DedupeStore = {
      claim() {
        if (mode === 'throw') throw new Error('ECONNREFUSED');
        return mode === 'reject' ? Promise.reject(new Error('ECONNREFUSED')) : new Promise<boolean>(() => undefined);
      },
    };
    const b = make({ dedupeStore: store, dedupeTimeoutMs: 20, onError: (err, e) => errors.push([err, e?.psid]) });
    b.on('message', (e) => void ran.push((e.item.message as { text: string }).text));
    const raw = body([msg('7', 'm_1', 'hi')]);
    for (const m of ['reject', 'throw', 'hang'] as const) {
      mode = m;
      await post(b, raw);
      await b.idle();
    }
    // At least once: without the store's word each delivery runs.
    expect(ran).toEqual(['hi', 'hi', 'hi']);
    expect(errors).toHaveLength(3);
    for (const [err, psid] of errors as [DedupeStoreError, string][]) {
      expect(err).toBeInstanceOf(DedupeStoreError);
      expect(psid).toBe('7');
    }
    const [[first], , [third]] = errors as [DedupeStoreError][];
    expect(first.cause).toEqual(new Error('ECONNREFUSED'));
    expect(third.message).toMatch(/no answer in 20 ms/);
  });

  it('forgets the event when a handler throws, so a redelivery runs again, on this instance or another', async () => {
    const redis = fakeRedis();
    const errors: unknown[] = [];
    let failing = true;
    const runs: string[] = [];
    const handler = (name: string) => () => {
      runs.push(name);
      if (failing) throw new Error('Graph was down');
    };
    const a = make({ dedupeStore: redisDedupeStore(redis), onError: (err) => errors.push(err) });
    const b = make({ dedupeStore: redisDedupeStore(redis), onError: (err) => errors.push(err) });
    a.on('message', handler('a'));
    b.on('message', handler('b'));
    const raw = body([msg('7', 'm_1', 'hi')]);
    // Two deliveries queued at once on one instance: the second waits for the first, which fails and lets it run.
    await post(a, raw);
    await post(a, raw);
    await a.idle();
    expect(runs).toEqual(['a', 'a']);
    expect(redis.keys.size).toBe(0);
    failing = false;
    await post(b, raw);
    await b.idle();
    await post(a, raw);
    await a.idle();
    expect(runs).toEqual(['a', 'a', 'b']);
    expect(errors).toEqual([new Error('Graph was down'), new Error('Graph was down')]);
  });

  it("does not let a release that never answers hold the person's next events", async () => {
    const errors: unknown[] = [];
    const ran: string[] = [];
    const store: DedupeStore = { claim: () => true, release: () => new Promise<void>(() => undefined) };
    const b = make({ dedupeStore: store, dedupeTimeoutMs: 20, maxConcurrentHandlers: 1, onError: (err) => errors.push(err) });
    b.on('message', (e) => {
      const text = (e.item.message as { text: string }).text;
      ran.push(text);
      if (text === 'fails') throw new Error('boom');
    });
    await post(b, body([msg('7', 'm_1', 'fails')]));
    await post(b, body([msg('7', 'm_2', 'next')]));
    await b.idle();
    expect(ran).toEqual(['fails', 'next']);
    expect(errors).toHaveLength(2);
    expect((errors[1] as DedupeStoreError).message).toMatch(/failed to release a key.*no answer in 20 ms/);
  });

  it('keeps the event when a handler only overran (it may still finish), and works with the default store', async () => {
    const ran: string[] = [];
    const b = make({ handlerTimeoutMs: 20, dedupeLeaseRenewMs: 0, onError: () => undefined });
    b.on('message', () => {
      ran.push('x');
      return new Promise(() => undefined);
    });
    const raw = body([msg('7', 'm_1', 'hi')]);
    await post(b, raw);
    await b.idle();
    await post(b, raw);
    await b.idle();
    expect(ran).toEqual(['x']);
  });

  it('in memory, remembers the last `dedupe` events, and nothing with 0', async () => {
    const store = memoryDedupeStore(2);
    expect([store.claim('a', 1000), store.claim('b', 1000), store.claim('a', 1000), store.claim('c', 1000)]).toEqual([true, true, false, true]);
    // 'a' was the oldest: forgotten.
    expect([store.claim('a', 1000), store.claim('c', 1000)]).toEqual([true, false]);
    expect([store.claim('d', 0), store.claim('d', 0)]).toEqual([true, true]);

    const ran: string[] = [];
    const shared = fakeRedis();
    const off = make({ dedupe: 0, dedupeStore: redisDedupeStore(shared) });
    off.on('message', () => void ran.push('x'));
    const raw = body([msg('7', 'm_1', 'hi')]);
    await post(off, raw);
    await post(off, raw);
    await off.idle();
    expect(ran).toEqual(['x', 'x']);
    expect(shared.keys.size).toBe(0);
  });

  it('fails a claim on a reply SET NX does not give, rather than drop the event', async () => {
    const store = redisDedupeStore({ set: async () => 'QUEUED' });
    await expect(Promise.resolve(store.claim('k', 10))).rejects.toThrow('unexpected reply to SET NX: "QUEUED"');
    expect(store.release).toBeUndefined();
  });
});

describe("MessengerBot ack: 'after-handlers'", () => {
  const make = (opts: Partial<BotOptions> = {}) =>
    new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', ack: 'after-handlers', onError: () => undefined, ...opts });
  const refused = (why: string) => ({ status: 503, body: `not handled, deliver again: ${why}`, headers: { 'retry-after': '5' } });
  const text = (e: BotEvent) => (e.item.message as { text: string }).text;
  // A handler's promise to finish, opened by the test: no timing involved.
  const gates = () => {
    const open = new Map<string, () => void>();
    return { wait: (name: string) => new Promise<void>((r) => open.set(name, r)), open, pass: (name: string) => open.get(name)!() };
  };

  it('answers once the handlers succeeded, and 503 with Retry-After when one threw; the retry runs only what failed', async () => {
    const g = gates();
    const ran: string[] = [];
    let failing = true;
    const b = make();
    b.on('message', async (e) => {
      ran.push(text(e));
      if (text(e) === 'slow') await g.wait('slow');
      if (text(e) === 'fails' && failing) throw new Error('Graph was down');
    });
    let answered = false;
    const answer = post(b, body([msg('1', 'm_1', 'slow')])).then((a) => ((answered = true), a));
    await until('the handler started', () => g.open.has('slow'));
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    g.pass('slow');
    expect(await answer).toEqual({ status: 200, body: 'EVENT_RECEIVED' });

    // A batch of two people: one's handler throws, so the whole request is refused and comes again.
    const batch = body([msg('2', 'm_2', 'works'), msg('3', 'm_3', 'fails')]);
    expect(await post(b, batch)).toEqual(refused('1 failed'));
    failing = false;
    // The retry: the event that succeeded is done (dropped), the one that threw was released (runs again).
    expect(await post(b, batch)).toEqual({ status: 200, body: 'EVENT_RECEIVED' });
    expect(ran).toEqual(['slow', 'works', 'fails', 'fails']);
  });

  it("answers 503 past ackTimeoutMs, lets the handler finish, and drops the retry once it is done, not while it runs", async () => {
    const g = gates();
    const ran: string[] = [];
    const b = make({ ackTimeoutMs: 20 });
    b.on('message', async (e) => {
      ran.push(text(e));
      await g.wait(text(e));
    });
    const raw = body([msg('1', 'm_1', 'slow')]);
    expect(await post(b, raw)).toEqual(refused('1 not finished in 20 ms'));
    // The sender's retry while the first still runs: queued behind it in the person's lane, not answered 200 either.
    expect(await post(b, raw)).toEqual(refused('1 not finished in 20 ms'));
    g.pass('slow');
    await b.idle();
    // Its turn came once the first was done: dropped.
    expect(ran).toEqual(['slow']);
    expect(await post(b, raw)).toEqual({ status: 200, body: 'EVENT_RECEIVED' });
    expect(ran).toEqual(['slow']);
  });

  it('tells a redelivery to another replica to come back while the event is in progress, and drops it once done', async () => {
    const g = gates();
    const store = memoryDedupeStore();
    const ran: string[] = [];
    const [a, b] = ['a', 'b'].map((name) => {
      const bot = make({ dedupeStore: store });
      bot.on('message', async (e) => {
        ran.push(`${name} ${text(e)}`);
        await g.wait(name);
      });
      return bot;
    });
    const raw = body([msg('1', 'm_1', 'hi')]);
    const first = post(a, raw);
    await until('a runs it', () => g.open.has('a'));
    expect(await post(b, raw)).toEqual(refused('1 in progress in another delivery'));
    g.pass('a');
    expect((await first).status).toBe(200);
    expect(await post(b, raw)).toEqual({ status: 200, body: 'EVENT_RECEIVED' });
    expect(ran).toEqual(['a hi']);
  });

  it("holds a person's later events of a batch behind one that failed, so the retry runs them in order", async () => {
    const ran: string[] = [];
    let failing = true;
    const b = make();
    b.on('message', (e) => {
      ran.push(text(e));
      if (text(e) === '1a' && failing) throw new Error('boom');
    });
    const batch = body([msg('1', 'm_1', '1a'), msg('1', 'm_2', '1b'), msg('2', 'm_3', '2a')]);
    expect(await post(b, batch)).toEqual(refused('1 failed, 1 held behind an earlier event of the same person'));
    expect(ran).toEqual(['1a', '2a']);
    failing = false;
    expect((await post(b, batch)).status).toBe(200);
    expect(ran).toEqual(['1a', '2a', '1a', '1b']);
  });

  it('loses nothing when a replica dies mid-handler: its lease lapses and the redelivery runs, once', () =>
    withClock(async (advance) => {
      const store = memoryDedupeStore();
      const ran: string[] = [];
      // Replica a "dies" in its handler: the handler never settles, so a never marks it done nor releases it (what
      // a answers is lost with it).
      const a = make({ dedupeStore: store, dedupeLeaseMs: 60_000, dedupeLeaseRenewMs: 0, ackTimeoutMs: 10, handlerTimeoutMs: 10 });
      a.on('message', () => {
        ran.push('a');
        return new Promise(() => undefined);
      });
      const b = make({ dedupeStore: store, dedupeLeaseMs: 60_000 });
      b.on('message', () => void ran.push('b'));
      const raw = body([msg('1', 'm_1', 'hi')]);
      void post(a, raw);
      await until('a runs it', () => ran.length === 1);
      // The sender's retries while a's lease holds: refused, not run, not dropped as done.
      expect((await post(b, raw)).status).toBe(503);
      advance(61_000);
      expect(await post(b, raw)).toEqual({ status: 200, body: 'EVENT_RECEIVED' });
      // Done now: any later redelivery is dropped.
      expect((await post(b, raw)).status).toBe(200);
      expect(ran).toEqual(['a', 'b']);
    }));

  it('keeps the concurrency cap, and answers one batch once for all its events', async () => {
    const g = gates();
    const b = make({ maxConcurrentHandlers: 1 });
    let active = 0;
    let most = 0;
    b.on('message', async (e) => {
      most = Math.max(most, ++active);
      await g.wait(text(e));
      active--;
    });
    let answered = false;
    const answer = post(b, body([msg('1', 'm_1', 'x'), msg('2', 'm_2', 'y'), msg('3', 'm_3', 'z')])).then((a) => ((answered = true), a));
    for (const t of ['x', 'y', 'z']) {
      await until(`${t} started`, () => g.open.has(t));
      expect(answered).toBe(false);
      g.pass(t);
    }
    expect((await answer).status).toBe(200);
    expect(most).toBe(1);
  });

  it('needs a two-phase store: refuses a one-phase one (a redis client without eval)', () => {
    expect(() => make({ dedupeStore: redisDedupeStore(fakeRedis()) })).toThrow("ack: 'after-handlers' needs a two-phase dedupeStore");
    expect(() => make({ dedupeStore: {} })).toThrow('a dedupeStore needs claim, or start and finish');
    // Without dedupe at all it runs, each delivery in full.
    expect(() => make({ dedupe: 0 })).not.toThrow();
  });
});

describe('two-phase dedupe', () => {
  it('in memory: in progress under a token, done only when finished, released only by its holder, a lapsed lease free', () => {
    const s = memoryDedupeStore();
    expect(s.start('k', 1000, 't1')).toBe('started');
    expect(s.start('k', 1000, 't2')).toBe('running');
    // Not t2's to release.
    s.release('k', 't2');
    expect(s.start('k', 1000, 't2')).toBe('running');
    expect(s.finish('k', 1000, 't1')).toBe(true);
    expect(s.start('k', 1000, 't3')).toBe('done');
    // A handler that threw: released, the redelivery runs.
    expect(s.start('r', 1000, 't1')).toBe('started');
    s.release('r', 't1');
    expect(s.start('r', 1000, 't2')).toBe('started');
    // A lease that lapsed (its process died): taken by the next delivery; the late finisher still marks it done,
    // and is told the lease was not its own any more.
    expect(s.start('l', 0, 't1')).toBe('started');
    expect(s.start('l', 1000, 't2')).toBe('started');
    expect(s.finish('l', 1000, 't1')).toBe(false);
    expect(s.start('l', 1000, 't3')).toBe('done');
  });

  it("default mode: a redelivery after a dead delivery's lease lapsed runs, one within it is dropped", () =>
    withClock(async (advance) => {
      const store = memoryDedupeStore();
      const ran: string[] = [];
      const make = (opts: Partial<BotOptions>) => new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', dedupeStore: store, ...opts });
      const a = make({ dedupeLeaseMs: 60_000, dedupeLeaseRenewMs: 0, handlerTimeoutMs: 10, onError: () => undefined });
      a.on('message', () => {
        ran.push('a');
        return new Promise(() => undefined);
      });
      const b = make({});
      b.on('message', () => void ran.push('b'));
      const raw = body([msg('1', 'm_1', 'hi')]);
      await post(a, raw);
      await until('a runs it', () => ran.length === 1);
      await post(b, raw);
      await b.idle();
      expect(ran).toEqual(['a']);
      advance(61_000);
      await post(b, raw);
      await b.idle();
      expect(ran).toEqual(['a', 'b']);
    }));
});

describe('lease renewal', () => {
  // A fake clock: timers (renewals, ackTimeoutMs) and Date.now (the in-memory store's clock) move only when the test
  // says. setImmediate stays real for until().
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  const make = (opts: Partial<BotOptions>) =>
    new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', ack: 'after-handlers', ackTimeoutMs: 100, ...opts });
  const raw = body([msg('1', 'm_1', 'hi')]);
  // Replica a's handler waits for the test; replica b's runs at once.
  const replicas = (store: DedupeStore, a: Partial<BotOptions>) => {
    const ran: string[] = [];
    const errors: unknown[] = [];
    let pass!: () => void;
    const bots = {
      a: make({ dedupeStore: store, dedupeLeaseMs: 3_000, onError: (err) => errors.push(err), ...a }),
      b: make({ dedupeStore: store, dedupeLeaseMs: 3_000, onError: (err) => errors.push(err) }),
    };
    bots.a.on('message', () => {
      ran.push('a');
      return new Promise<void>((r) => (pass = r));
    });
    bots.b.on('message', () => void ran.push('b'));
    return { ...bots, ran, errors, pass: () => pass() };
  };

  it('in memory: extends only the lease its token holds, not a done key or a lapsed one', () => {
    const s = memoryDedupeStore();
    expect(s.start('k', 1_000, 't1')).toBe('started');
    expect(s.extend('k', 1_000, 't2')).toBe(false);
    jest.advanceTimersByTime(900);
    expect(s.extend('k', 1_000, 't1')).toBe(true);
    jest.advanceTimersByTime(900);
    // 1.8 s after its start, held for a second from the renewal.
    expect(s.start('k', 1_000, 't2')).toBe('running');
    expect(s.finish('k', 60_000, 't1')).toBe(true);
    expect(s.extend('k', 1_000, 't1')).toBe(false);
    expect(s.start('l', 1_000, 't1')).toBe('started');
    jest.advanceTimersByTime(1_000);
    expect(s.extend('l', 1_000, 't1')).toBe(false);
  });

  it('keeps the event of a handler running far past its lease: a redelivery to another replica is told to come back, not run', async () => {
    const store = memoryDedupeStore();
    const extend = jest.spyOn(store, 'extend');
    const r = replicas(store, {});
    const first = post(r.a, raw);
    await until('a runs it', () => r.ran.length === 1);
    // Ten leases long; renewed every second (a third of it).
    await jest.advanceTimersByTimeAsync(30_000);
    expect(extend.mock.calls.length).toBeGreaterThanOrEqual(29);
    expect((await post(r.b, raw)).status).toBe(503);
    r.pass();
    expect((await first).status).toBe(503); // past its ackTimeoutMs
    await r.a.idle();
    const renewals = extend.mock.calls.length;
    await jest.advanceTimersByTimeAsync(30_000);
    // Done now: the retry is dropped, and nothing renews any more.
    expect(await post(r.b, raw)).toEqual({ status: 200, body: 'EVENT_RECEIVED' });
    expect(r.ran).toEqual(['a']);
    expect(extend.mock.calls.length).toBe(renewals);
    expect(r.errors).toEqual([]);
  });

  it('without renewals (dedupeLeaseRenewMs: 0) the lease lapses under a long handler and the event runs twice, reported', async () => {
    const store = memoryDedupeStore();
    const r = replicas(store, { dedupeLeaseRenewMs: 0 });
    const first = post(r.a, raw);
    await until('a runs it', () => r.ran.length === 1);
    await jest.advanceTimersByTimeAsync(30_000);
    expect((await post(r.b, raw)).status).toBe(200);
    r.pass();
    await first;
    await r.a.idle();
    expect(r.ran).toEqual(['a', 'b']);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toBeInstanceOf(DedupeLeaseLostError);
    expect(r.errors[0]).toBeInstanceOf(DedupeStoreError);
  });

  it('reports a lease lost between renewals (the process stalled past it, another replica took it) once', async () => {
    const store = memoryDedupeStore();
    const r = replicas(store, {});
    const first = post(r.a, raw);
    await until('a runs it', () => r.ran.length === 1);
    // The clock jumps past the lease with no renewal run meanwhile, as when the event loop is blocked.
    jest.setSystemTime(Date.now() + 10_000);
    expect((await post(r.b, raw)).status).toBe(200);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(r.errors).toHaveLength(1);
    expect((r.errors[0] as Error).message).toMatch(/lease on an event was lost while its handlers ran/);
    r.pass();
    await first;
    await r.a.idle();
    // The late finish is not reported a second time.
    expect(r.errors).toHaveLength(1);
    expect(r.ran).toEqual(['a', 'b']);
  });

  it('stops renewing a handler that never settles after dedupeLeaseMaxMs, so its lease lapses and a redelivery runs', async () => {
    const store = memoryDedupeStore();
    const r = replicas(store, { dedupeLeaseMaxMs: 20_000 });
    void post(r.a, raw);
    await until('a runs it', () => r.ran.length === 1);
    await jest.advanceTimersByTimeAsync(19_000);
    expect((await post(r.b, raw)).status).toBe(503);
    await jest.advanceTimersByTimeAsync(6_000);
    expect(r.errors).toHaveLength(1);
    expect((r.errors[0] as Error).message).toMatch(/ran longer than 20000 ms: its lease is no longer renewed/);
    expect((await post(r.b, raw)).status).toBe(200);
    expect(r.ran).toEqual(['a', 'b']);
  });

  it('renews a lease longer than a timer can wait (a third past 2^31-1 ms) at that longest wait, not every millisecond', async () => {
    const store = memoryDedupeStore();
    const extend = jest.spyOn(store, 'extend');
    const r = replicas(store, { dedupeLeaseMs: 7e9 });
    const first = post(r.a, raw);
    await until('a runs it', () => r.ran.length === 1);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(extend).not.toHaveBeenCalled();
    r.pass();
    await first;
    await r.a.idle();
    expect(r.errors).toEqual([]);
  });

  it.each([Infinity, -Infinity, NaN, 0, -1])('refuses dedupeLeaseMs %p when the bot is made', (dedupeLeaseMs) => {
    expect(() => make({ dedupeLeaseMs })).toThrow(`dedupeLeaseMs must be a positive, finite number of milliseconds (got ${dedupeLeaseMs})`);
  });

  it.each([Infinity, 2 ** 31, NaN, 0, -1])('refuses handlerTimeoutMs %p when the bot is made (a timer would fire at once)', (handlerTimeoutMs) => {
    expect(() => make({ handlerTimeoutMs })).toThrow(`handlerTimeoutMs must be a positive number of milliseconds up to 2^31-1 (got ${handlerTimeoutMs})`);
  });

  it('leaves a store without extend (written before renewal) as it was: the lease is never renewed', async () => {
    const { extend: _, ...store } = memoryDedupeStore();
    const r = replicas(store, {});
    void post(r.a, raw);
    await until('a runs it', () => r.ran.length === 1);
    await jest.advanceTimersByTimeAsync(3_000);
    expect((await post(r.b, raw)).status).toBe(200);
    expect(r.ran).toEqual(['a', 'b']);
    expect(r.errors).toEqual([]);
  });
});

describe('MessengerBot concurrency cap', () => {
  it('runs at most maxConcurrentHandlers events at once, each person in order, and idle() waits for all', async () => {
    const b = new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', maxConcurrentHandlers: 2 });
    const gates = new Map<string, () => void>();
    const started: string[] = [];
    const finished: string[] = [];
    let active = 0;
    let most = 0;
    b.on('message', async (e) => {
      const text = (e.item.message as { text: string }).text;
      started.push(text);
      active++;
      most = Math.max(most, active);
      await new Promise<void>((r) => gates.set(text, r));
      active--;
      finished.push(text);
    });
    // Five people, two messages each, all in one burst.
    const people = ['1', '2', '3', '4', '5'];
    for (const n of [1, 2]) for (const p of people) await post(b, body([msg(p, `m_${p}_${n}`, `${p}#${n}`)]));
    let idle = false;
    const waiting = b.idle().then(() => (idle = true));

    const open = async (count: number) => {
      await until(`${count} handlers started`, () => started.length === count && gates.size === count);
      expect(active).toBeLessThanOrEqual(2);
    };
    for (let i = 1; i <= 10; i++) {
      await open(Math.min(i + 1, 10));
      expect(idle).toBe(false);
      // Let the oldest running one finish.
      const next = started.find((t) => !finished.includes(t) && gates.has(t))!;
      gates.get(next)!();
    }
    await waiting;
    expect(most).toBe(2);
    expect(finished).toHaveLength(10);
    for (const p of people) expect(finished.filter((t) => t.startsWith(`${p}#`))).toEqual([`${p}#1`, `${p}#2`]);
    // Turns go in the order they were asked for: every first message before any second one.
    expect(started.slice(0, 5).sort()).toEqual(people.map((p) => `${p}#1`));
  });

  it('answers 503 and runs nothing of a delivery while too many events wait, so the sender retries it', async () => {
    const b = new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', maxPendingEvents: 2, maxConcurrentHandlers: 1 });
    const release: (() => void)[] = [];
    const ran: string[] = [];
    b.on('message', (e) => {
      ran.push((e.item.message as { text: string }).text);
      return new Promise<void>((r) => release.push(r));
    });
    expect((await post(b, body([msg('1', 'm_1', 'one'), msg('2', 'm_2', 'two')]))).status).toBe(200);
    const refused = await post(b, body([msg('3', 'm_3', 'three')]));
    expect(refused).toEqual({ status: 503, body: 'busy: deliver again later', headers: { 'retry-after': '5' } });
    // Lets each handler finish as it starts, until `n` have run.
    const finish = async (n: number) => {
      while (ran.length < n || release.length) {
        release.shift()?.();
        await new Promise((r) => setTimeout(r, 1));
      }
      await b.idle();
    };
    await finish(2);
    // Room again: the retry is taken.
    expect((await post(b, body([msg('3', 'm_3', 'three')]))).status).toBe(200);
    await finish(3);
    expect(ran).toEqual(['one', 'two', 'three']);
  });

  it("frees an overrunning handler's slot, and runs unbounded with 0", async () => {
    const errors: unknown[] = [];
    const capped = new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', maxConcurrentHandlers: 1, handlerTimeoutMs: 20, dedupeLeaseRenewMs: 0, onError: (err) => errors.push(err) });
    const ran: string[] = [];
    capped.on('message', (e) => {
      ran.push(e.psid!);
      return e.psid === '1' ? new Promise(() => undefined) : undefined;
    });
    await post(capped, body([msg('1', 'm_1', 'hang'), msg('2', 'm_2', 'next')]));
    await capped.idle();
    expect(ran).toEqual(['1', '2']);
    expect(errors).toEqual([new Error('a message handler ran longer than 20 ms')]);

    const free = new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', maxConcurrentHandlers: 0 });
    const release: (() => void)[] = [];
    free.on('message', () => new Promise<void>((r) => release.push(r)));
    await post(free, body(Array.from({ length: 100 }, (_, i) => msg(String(i), `m_${i}`, 'x'))));
    await until('all 100 running at once', () => release.length === 100);
    release.forEach((r) => r());
    await free.idle();
  });
});

describe('GraphClient', () => {
  let server: Server;
  let base: string;
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  let answers: { status: number; body: unknown; headers?: Record<string, string> }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: b });
        const a = answers.shift() ?? { status: 200, body: { ok: true } };
        res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(JSON.stringify(a.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());
  beforeEach(() => {
    seen.length = 0;
    answers = [];
  });

  it("sends to a PSID or to a marketing messages token, the token's without a messaging_type unless given", async () => {
    const b = new MessengerBot({ appSecret: SECRET, pageAccessToken: 'PT', verifyToken: 'v', graphUrl: base, backoffMs: 1 });
    await b.sendText('7', 'hi');
    await b.sendText({ notification_messages_token: 'TOKEN' }, 'Deals this week');
    await b.sendText({ notification_messages_token: 'TOKEN' }, 'Again', { messagingType: 'UPDATE' });
    const sent = seen.map((r) => JSON.parse(r.body));
    expect(sent[0]).toMatchObject({ recipient: { id: '7' }, messaging_type: 'RESPONSE', message: { text: 'hi' } });
    expect(sent[1]).toMatchObject({ recipient: { notification_messages_token: 'TOKEN' }, message: { text: 'Deals this week' } });
    expect(sent[1]).not.toHaveProperty('messaging_type');
    expect(sent[2]).toMatchObject({ recipient: { notification_messages_token: 'TOKEN' }, messaging_type: 'UPDATE' });
  });

  it("answers a reusable attachment's send with its attachment_id, as Graph does", async () => {
    const b = new MessengerBot({ appSecret: SECRET, pageAccessToken: 'PT', verifyToken: 'v', graphUrl: base, backoffMs: 1 });
    answers = [{ status: 200, body: { recipient_id: '7', message_id: 'm_1', attachment_id: '42' } }];
    const sent = await b.sendMessage('7', { attachment: { type: 'image', payload: { url: 'https://example.com/a.png', is_reusable: true } } });
    // Typed: a bot reads the id to send the file again without uploading it.
    const id: string | undefined = sent.attachment_id;
    expect(id).toBe('42');
  });

  it('does not retry a marketing message refused for its cooldown (4 / 2018354)', async () => {
    const g = new GraphClient({ pageAccessToken: 'PT', graphUrl: base, backoffMs: 1 });
    answers = [{ status: 400, body: { error: { message: '(#4) Marketing Messages - too soon', code: 4, error_subcode: 2018354 } } }];
    await expect(g.post('me/messages', { recipient: { notification_messages_token: 'T' } }, { idempotent: true })).rejects.toMatchObject({ code: 4, subcode: 2018354 });
    expect(seen).toHaveLength(1);
  });

  it('retries a send that failed transiently under one Idempotency-Key, with the token and appsecret_proof', async () => {
    const g = new GraphClient({ pageAccessToken: 'PT', appSecret: 's', graphUrl: base, backoffMs: 1 });
    answers = [{ status: 500, body: { error: { message: 'oops', code: 2 } } }, { status: 200, body: { recipient_id: '7', message_id: 'm_1' } }];
    expect(await g.post('me/messages', { recipient: { id: '7' } }, { idempotent: true })).toEqual({ recipient_id: '7', message_id: 'm_1' });
    expect(seen).toHaveLength(2);
    expect(seen[0].headers['idempotency-key']).toBeDefined();
    expect(seen[1].headers['idempotency-key']).toBe(seen[0].headers['idempotency-key']);
    expect(seen[0].headers.authorization).toBe('Bearer PT');
    expect(seen[0].url).toMatch(/^\/v25\.0\/me\/messages\?appsecret_proof=[0-9a-f]{64}$/);
    expect(JSON.parse(seen[0].body)).toEqual({ recipient: { id: '7' } });
  });

  it('repeats a write that may have been done only where the key makes that harmless', async () => {
    // A handover call answered 500 may have happened: not repeated.
    const g = new GraphClient({ pageAccessToken: 'PT', graphUrl: base, backoffMs: 1 });
    answers = [{ status: 500, body: { error: { message: 'oops', code: 2 } } }];
    expect(((await g.post('me/pass_thread_control', {}).catch((e) => e)) as GraphApiError).code).toBe(2);
    expect(seen).toHaveLength(1);
    // Refused unread (a rate limit): repeated.
    seen.length = 0;
    answers = [{ status: 429, body: { error: { message: 'slow down', code: 613 } } }, { status: 200, body: { success: true } }];
    expect(await g.post('me/pass_thread_control', {})).toEqual({ success: true });
    expect(seen).toHaveLength(2);
    // A server that ignores Idempotency-Key (Messenger's own Graph): a send answered 500 is not repeated either.
    seen.length = 0;
    const meta = new GraphClient({ pageAccessToken: 'PT', graphUrl: base, backoffMs: 1, honoursIdempotencyKey: false });
    answers = [{ status: 500, body: { error: { message: 'oops', code: 1 } } }];
    await meta.post('me/messages', {}, { idempotent: true }).catch(() => undefined);
    expect(seen).toHaveLength(1);
  });

  it("throws Graph's error at once when the request is at fault", async () => {
    const g = new GraphClient({ pageAccessToken: 'PT', graphUrl: base, backoffMs: 1 });
    answers = [{ status: 400, body: { error: { message: '(#100) No matching user found', type: 'OAuthException', code: 100, error_subcode: 2018001, fbtrace_id: 'abc' } } }];
    const err = (await g.post('me/messages', {}).catch((e) => e)) as GraphApiError;
    expect(err).toBeInstanceOf(GraphApiError);
    expect([err.status, err.code, err.subcode, err.type, err.fbtraceId, err.message, err.transient]).toEqual([
      400, 100, 2018001, 'OAuthException', 'abc', '(#100) No matching user found', false,
    ]);
    expect(seen).toHaveLength(1);
  });

  it('gives up after its retries, and waits out Retry-After', async () => {
    const g = new GraphClient({ pageAccessToken: 'PT', graphUrl: base, backoffMs: 1, retries: 1 });
    answers = [
      { status: 429, body: { error: { message: 'slow down', code: 613 } }, headers: { 'retry-after': '1' } },
      { status: 429, body: { error: { message: 'slow down', code: 613 } } },
    ];
    const started = Date.now();
    const err = (await g.get('me').catch((e) => e)) as GraphApiError;
    expect([err.code, err.transient]).toEqual([613, true]);
    expect(seen).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('reports a refused connection as status 0', async () => {
    const g = new GraphClient({ pageAccessToken: 'PT', graphUrl: 'http://127.0.0.1:1', retries: 0 });
    const err = (await g.get('me').catch((e) => e)) as GraphApiError;
    expect([err.status, err.transient]).toEqual([0, true]);
  });
});
