import Redis from 'ioredis';
import { verifyMessenger, verifyStandard } from '../../libs/webhook-signature';
import { startBotReceiver, BotReceiver, ReceivedRequest } from '../support/bot-receiver';
import { httpClient } from '../support/http-client';
import { insertOutboxEvents } from '../support/outbox';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { pageWithSubscribedApp } from '../factories/registry.factory';
import { startOwnRedis } from '../support/own-redis';

// One event per POST here: these tests read webhook-id as the delivery id; batching has its own file.
const FAST = { WEBHOOK_RECONCILE_INTERVAL_MS: '200', WEBHOOK_RETRY_SCHEDULE: '0,1', WEBHOOK_MAX_BATCH: '1' };

const subscribe = (t: TestPlatform, bot: BotReceiver) =>
  pageWithSubscribedApp(httpClient(t.url), bot, 'messages,messaging_postbacks,message_deliveries,message_reads,message_echoes');

function parse(r: ReceivedRequest) {
  const body = JSON.parse(r.body.toString('utf8'));
  return { body, messaging: body.entry[0].messaging[0], webhookId: String(r.headers['webhook-id']) };
}

function assertOrderedPerThread(received: ReceivedRequest[]) {
  const lastSeen = new Map<string, number>();
  const firsts = new Map<string, ReceivedRequest>();
  for (const r of received) {
    const id = String(r.headers['webhook-id']);
    if (!firsts.has(id)) firsts.set(id, r);
  }
  for (const r of firsts.values()) {
    const [thread, n] = parse(r).messaging.message.text.split(' ')[0].split('#');
    expect(Number(n)).toBeGreaterThan(lastSeen.get(thread) ?? -1);
    lastSeen.set(thread, Number(n));
  }
}

describe('webhook delivery worker', () => {
  let bot: BotReceiver;
  beforeEach(async () => {
    bot = await startBotReceiver('verify-me');
  });
  afterEach(async () => bot.close());

  it('delivers outbox events in Messenger’s envelope, signed both ways, in order per thread', async () => {
    const t = await startTestPlatform({ env: FAST });
    try {
      const ctx = await subscribe(t, bot);
      const rows = await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: ['1001', '1002'], perThread: 20 });
      await waitFor('all deliveries', () => new Set(bot.received.map((r) => r.headers['webhook-id'])).size === rows.length);
      for (const r of bot.received) {
        expect(r.headers['content-type']).toBe('application/json');
        // Meta's encoding: non-ASCII as lowercase \u escapes, so the signed bytes are ASCII (the text is `… äöå 👋`).
        expect(r.body.toString('latin1')).toMatch(/ \\u00e4\\u00f6\\u00e5 \\ud83d\\udc4b"/);
        expect(r.body.every((b) => b < 0x80)).toBe(true);
        expect(verifyMessenger(r.body, r.headers['x-hub-signature-256'] as string, ctx.app.secret)).toBe(true);
        expect(String(r.headers['x-hub-signature'])).toMatch(/^sha1=[0-9a-f]{40}$/);
        expect(verifyStandard({ headers: r.headers, body: r.body, secrets: [ctx.app.secret] }).id).toBe(r.headers['webhook-id']);
        const { body, messaging } = parse(r);
        expect(body).toEqual({ object: 'page', entry: [{ id: ctx.page.id, time: expect.any(Number), messaging: [messaging] }] });
        expect(messaging.recipient).toEqual({ id: ctx.page.id });
      }
      assertOrderedPerThread(bot.received);
      const states = await t.db.query(`SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status`);
      expect(states).toEqual([{ status: 'delivered', n: rows.length }]);
    } finally {
      await t.close();
    }
  });

  it('retries failures with the same webhook-id, records every attempt, and keeps thread order', async () => {
    const t = await startTestPlatform({ env: FAST });
    try {
      const ctx = await subscribe(t, bot);
      let calls = 0;
      bot.respond = () => (++calls % 3 === 0 ? 200 : 503);
      const rows = await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: ['2001'], perThread: 4 });
      await waitFor('all delivered', async () => {
        const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'`);
        return n === rows.length;
      }, { timeoutMs: 60_000 });
      const byId = new Map<string, number>();
      for (const r of bot.received) byId.set(String(r.headers['webhook-id']), (byId.get(String(r.headers['webhook-id'])) ?? 0) + 1);
      expect([...byId.keys()].sort()).toEqual(rows.map((r) => r.deliveryId).sort());
      expect(Math.max(...byId.values())).toBeGreaterThan(1);
      const attempts = await t.db.query(`SELECT delivery_id, attempt, status_code FROM webhook_attempts ORDER BY delivery_id, attempt`);
      expect(attempts.length).toBe(bot.received.length);
      expect(attempts.filter((a: { status_code: number }) => a.status_code === 503).length).toBe(bot.received.length - rows.length);
      // Ordering: a later event of the thread is first sent only after the earlier one succeeded.
      const firstSend = new Map<string, number>();
      const success = new Map<string, number>();
      bot.received.forEach((r, i) => {
        const id = String(r.headers['webhook-id']);
        if (!firstSend.has(id)) firstSend.set(id, i);
      });
      let idx = 0;
      let c = 0;
      for (const r of bot.received) {
        if (++c % 3 === 0) success.set(String(r.headers['webhook-id']), idx);
        idx++;
      }
      for (let i = 1; i < rows.length; i++) {
        expect(firstSend.get(rows[i].deliveryId)!).toBeGreaterThan(success.get(rows[i - 1].deliveryId)!);
      }
    } finally {
      await t.close();
    }
  });

  it('settles a delivery whose bot answers bytes no text column holds (a NUL), once, keeping the body readable', async () => {
    const t = await startTestPlatform({ env: FAST });
    try {
      const ctx = await subscribe(t, bot);
      bot.respond = () => ({ status: 200, body: Buffer.from([0x4f, 0x4b, 0x00, 0x01, 0xff]) });
      const rows = await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: ['3001'], perThread: 1 });
      await waitFor('delivered', async () => {
        const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'`);
        return n === rows.length;
      });
      const attempts = await t.db.query(`SELECT status_code, response_body FROM webhook_attempts`);
      expect(attempts).toEqual([{ status_code: 200, response_body: 'OK\ufffd\u0001\ufffd' }]);
      expect(bot.received).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it('loses nothing when a worker is killed with SIGKILL mid-burst to a receiver failing 30% of requests', async () => {
    const t = await startTestPlatform({ role: 'api', env: FAST });
    try {
      const ctx = await subscribe(t, bot);
      let n = 0;
      bot.respond = () => (n++ % 10 < 3 ? 500 : 200);
      let worker = await t.spawnSibling('worker');
      const rows = await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: Array.from({ length: 50 }, (_, i) => String(3000 + i)), perThread: 20 });
      await waitFor('some deliveries', () => bot.received.length > 100);
      worker.child.kill('SIGKILL');
      await new Promise((r) => worker.child.once('exit', r));
      const atKill = bot.received.length;
      worker = await t.spawnSibling('worker');
      await waitFor('every event delivered', async () => {
        const [{ n: done }] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'`);
        return done === rows.length;
      }, { timeoutMs: 120_000 });
      const ids = new Set(bot.received.map((r) => String(r.headers['webhook-id'])));
      expect(rows.every((r) => ids.has(r.deliveryId))).toBe(true);
      expect(atKill).toBeLessThan(rows.length);
      assertOrderedPerThread(bot.received.filter((_, i) => true));
    } finally {
      await t.close();
    }
  }, 180_000);

  it('loses nothing when Redis is flushed during a burst', async () => {
    const { port, redis } = await startOwnRedis();
    try {
      const t = await startTestPlatform({ env: { ...FAST, REDIS_URL: `redis://127.0.0.1:${port}` } });
      try {
        const ctx = await subscribe(t, bot);
        bot.respond = async () => {
          await new Promise((r) => setTimeout(r, 2));
          return 200;
        };
        const rows = await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: Array.from({ length: 20 }, (_, i) => String(4000 + i)), perThread: 25 });
        await waitFor('burst started', () => bot.received.length > 50);
        const admin = new Redis({ port });
        await admin.flushall();
        admin.disconnect();
        await waitFor('every event delivered after the flush', async () => {
          const [{ n: done }] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'`);
          return done === rows.length;
        }, { timeoutMs: 60_000 });
        const ids = new Set(bot.received.map((r) => String(r.headers['webhook-id'])));
        expect(rows.every((r) => ids.has(r.deliveryId))).toBe(true);
      } finally {
        await t.close();
      }
    } finally {
      redis.kill('SIGKILL');
    }
  }, 120_000);

  // Nothing in the queue at all: outbox rows written directly, and a retry's delayed job flushed away. The sweep must
  // find each app's fresh backlog and each retry batch on its own, across apps.
  it("the reconciler alone finds every app's backlog and every retry batch the queue lost", async () => {
    const { port, redis } = await startOwnRedis();
    const bots = [bot, await startBotReceiver('verify-me'), await startBotReceiver('verify-me')];
    try {
      // Retries wait 3 s: long enough to flush their delayed jobs before they run.
      const t = await startTestPlatform({ env: { ...FAST, WEBHOOK_RETRY_SCHEDULE: '3,3', REDIS_URL: `redis://127.0.0.1:${port}` } });
      try {
        const ctxs = [];
        for (const b of bots) ctxs.push(await subscribe(t, b));
        let refused = 0;
        bots[1].respond = () => (refused++ < 3 ? 500 : 200);
        const rows = [];
        for (const [i, ctx] of ctxs.entries()) {
          const threads = Array.from({ length: 4 }, (_, k) => String(7000 + i * 10 + k));
          rows.push(...(await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads, perThread: 5 })));
        }
        await waitFor('three refused attempts', () => refused >= 3);
        const admin = new Redis({ port });
        await admin.flushall();
        admin.disconnect();
        const [{ n: waiting }] = await t.db.query(
          `SELECT count(*)::int AS n FROM webhook_deliveries WHERE app_id = $1 AND status = 'pending' AND batch_id IS NOT NULL`,
          [ctxs[1].app.id],
        );
        expect(waiting).toBeGreaterThan(0);
        await waitFor('every event of every app delivered', async () => {
          const [{ n: done }] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'`);
          return done === rows.length;
        }, { timeoutMs: 60_000 });
        const ids = new Set(bots.flatMap((b) => b.received.filter((r) => r.method === 'POST').map((r) => String(r.headers['webhook-id']))));
        expect(rows.every((r) => ids.has(r.deliveryId))).toBe(true);
        for (const b of bots) assertOrderedPerThread(b.received.filter((r) => r.method === 'POST'));
      } finally {
        await t.close();
      }
    } finally {
      for (const b of bots.slice(1)) await b.close();
      redis.kill('SIGKILL');
    }
  }, 120_000);
});
