import Redis from 'ioredis';
import { Client } from 'pg';
import { startBotReceiver, BotReceiver, ReceivedRequest } from '../support/bot-receiver';
import { httpClient } from '../support/http-client';
import { insertOutboxEvents } from '../support/outbox';
import { startOwnRedis } from '../support/own-redis';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { pageWithSubscribedApp, signupPerson } from '../factories/registry.factory';
import { ALL_FIELDS, openThread, personSays } from '../factories/messaging.factory';

// Faults around the delivery worker that the gateway's own tests don't stage: Redis losing state mid-POST, a
// graceful stop with batches open.

const subscribe = (t: TestPlatform, bot: BotReceiver, fields = 'messages,messaging_postbacks') =>
  pageWithSubscribedApp(httpClient(t.url), bot, fields);

// The texts a POST carried, up to the first space (insertOutboxEvents writes "<thread>#<n> ...").
const texts = (r: ReceivedRequest): string[] =>
  JSON.parse(r.body.toString('utf8')).entry.map((e: any) => String(e.messaging[0].message.text).split(' ')[0]);

describe('webhook delivery under faults', () => {
  it("a probe never overtakes a thread-mate still in flight, even when Redis lost the endpoint's slots", async () => {
    const { port, redis } = await startOwnRedis();
    const bot = await startBotReceiver('verify-me');
    try {
      const t = await startTestPlatform({
        env: {
          REDIS_URL: `redis://127.0.0.1:${port}`,
          WEBHOOK_RECONCILE_INTERVAL_MS: '200',
          WEBHOOK_RETRY_SCHEDULE: '0,0,1',
          WEBHOOK_TIMEOUT_MS: '30000',
          WEBHOOK_WARN_AFTER_SECONDS: '1',
          WEBHOOK_PAUSE_AFTER_SECONDS: '2',
          WEBHOOK_PROBE_INTERVAL_SECONDS: '1',
          WEBHOOK_MAX_BATCH: '1',
          WEBHOOK_ENDPOINT_MAX_IN_FLIGHT: '2',
        },
      });
      try {
        const ctx = await subscribe(t, bot);
        // a#0 is held open (and then refused); b's events fail until the endpoint is paused; the rest succeed.
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let heldOnce = false;
        let failing = true;
        bot.respond = async (r) => {
          const sent = texts(r);
          if (sent.includes('a#0') && !heldOnce) {
            heldOnce = true;
            await held;
            return 500;
          }
          return failing && sent.some((x) => x.startsWith('b#')) ? 500 : 200;
        };
        // a#0, a#1, then a person's b#0 (its wake-up takes the thread a#0 doesn't hold): once the endpoint is
        // paused, a#1 is its oldest pending delivery.
        const a = await insertOutboxEvents(t.db, {
          pageId: ctx.page.id,
          appId: ctx.app.id,
          threads: ['a'],
          perThread: 2,
        });
        await waitFor('a#0 open', () => heldOnce);
        const api = httpClient(t.url);
        const person = await signupPerson(api);
        await personSays(api, person, (await openThread(api, person, ctx.page.id)).id, 'b#0');
        await waitFor(
          'paused',
          async () => {
            const [ep] = await t.db.query(`SELECT paused_at FROM webhook_endpoints WHERE app_id = $1`, [ctx.app.id]);
            return ep?.paused_at;
          },
          { timeoutMs: 20_000 },
        ).catch(async (e: Error) => {
          const rows = await t.db.query(
            `SELECT thread_key, status, attempts, batch_id IS NOT NULL AS batched, last_error FROM webhook_deliveries WHERE app_id = $1 ORDER BY seq`,
            [ctx.app.id],
          );
          throw new Error(
            `${e.message}: ${JSON.stringify(rows)} ${bot.received.map((r) => texts(r).join('+')).join(',')}\n${t.logs
              .join('')
              .split('\n')
              .filter((l) => /WebhookDelivery|error/.test(l))
              .slice(-10)
              .join('\n')}`,
          );
        });
        failing = false;
        // Redis restarted empty: the semaphore no longer knows a#0's POST holds a slot.
        const admin = new Redis({ port });
        await admin.flushall();
        admin.disconnect();
        // Two probe rounds pass while a#0 is still open (the first one's claim long done when the second starts).
        const probedAfter = async (since: Date) =>
          waitFor('a probe round', async () => {
            const [ep] = await t.db.query(
              `SELECT last_probe_at FROM webhook_endpoints WHERE app_id = $1 AND last_probe_at > $2`,
              [ctx.app.id, since],
            );
            return ep?.last_probe_at as Date | undefined;
          });
        const [{ now }] = await t.db.query(`SELECT now()`);
        await probedAfter(await probedAfter(now));
        const early = bot.received
          .filter((r) => texts(r).includes('a#1'))
          .map((r) => ({ probe: r.headers['x-switchboard-probe'] ?? null }));
        release();
        await waitFor(
          'all delivered',
          async () => {
            const [{ n }] = await t.db.query(
              `SELECT count(*)::int AS n FROM webhook_deliveries WHERE app_id = $1 AND status = 'delivered'`,
              [ctx.app.id],
            );
            return n === 3;
          },
          { timeoutMs: 30_000 },
        );
        // a#1 went to the bot only after a#0 was acknowledged.
        expect(early).toEqual([]);
        const [d0, d1] = await t.db.query(
          `SELECT delivered_at FROM webhook_deliveries WHERE id = ANY($1) ORDER BY seq`,
          [a.map((r) => r.deliveryId)],
        );
        expect(new Date(d1.delivered_at).getTime()).toBeGreaterThan(new Date(d0.delivered_at).getTime());
      } finally {
        await t.close();
      }
    } finally {
      await bot.close();
      redis.kill('SIGKILL');
    }
  }, 90_000);

  it("an event whose wake-up was lost goes out while another thread's POST is still open", async () => {
    const bot = await startBotReceiver('verify-me');
    const t = await startTestPlatform({ env: { WEBHOOK_RECONCILE_INTERVAL_MS: '200', WEBHOOK_TIMEOUT_MS: '30000' } });
    try {
      const ctx = await subscribe(t, bot);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      bot.respond = async () => {
        if (bot.received.length === 1) await held;
        return 200;
      };
      await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: ['a'], perThread: 1 });
      await waitFor('the first POST open', () => bot.inFlight === 1);
      // Written with no wake-up (the queue lost it, or the writer died before dispatch), after the thread's first
      // event: the reconciler's job names the app's oldest fresh delivery, a's, which waits behind the open POST.
      await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: ['a'], perThread: 1 });
      const [b] = await insertOutboxEvents(t.db, {
        pageId: ctx.page.id,
        appId: ctx.app.id,
        threads: ['b'],
        perThread: 1,
      });
      try {
        await waitFor(
          'b delivered while the POST is open',
          async () => {
            const [d] = await t.db.query(`SELECT status FROM webhook_deliveries WHERE id = $1`, [b.deliveryId]);
            return d.status === 'delivered';
          },
          { timeoutMs: 5000 },
        );
        expect(bot.inFlight).toBe(1);
      } finally {
        release();
      }
    } finally {
      await t.close();
      await bot.close();
    }
  }, 60_000);

  it("a slow bot's backlog never gets more POSTs at once than its cap, however long the senders go on", async () => {
    const bot = await startBotReceiver('verify-me');
    // Slots lapse WEBHOOK_TIMEOUT_MS + 30 s after they are taken; a sender working through a backlog goes on for
    // up to 50 rounds, here of a second each.
    const t = await startTestPlatform({
      env: {
        WEBHOOK_RECONCILE_INTERVAL_MS: '200',
        WEBHOOK_TIMEOUT_MS: '3000',
        WEBHOOK_MAX_BATCH: '1',
        WEBHOOK_ENDPOINT_MAX_IN_FLIGHT: '2',
      },
    });
    try {
      const ctx = await subscribe(t, bot);
      bot.respond = async () => {
        await new Promise((r) => setTimeout(r, 1000));
        return 200;
      };
      await insertOutboxEvents(t.db, {
        pageId: ctx.page.id,
        appId: ctx.app.id,
        threads: Array.from({ length: 150 }, (_, i) => `s${i}`),
        perThread: 1,
      });
      const start = Date.now();
      await waitFor("past the first slots' lease", () => Date.now() - start > 45_000 || bot.maxInFlight > 2, {
        timeoutMs: 60_000,
        intervalMs: 200,
      });
      expect(bot.maxInFlight).toBe(2);
    } finally {
      await t.close();
      await bot.close();
    }
  }, 90_000);

  it('an endpoint cap above 16 is met with as many connections: no POST waits for a socket while its deadline runs', async () => {
    const bot = await startBotReceiver('verify-me');
    const t = await startTestPlatform({
      env: {
        WEBHOOK_RECONCILE_INTERVAL_MS: '200',
        WEBHOOK_TIMEOUT_MS: '3000',
        WEBHOOK_MAX_BATCH: '1',
        WEBHOOK_ENDPOINT_MAX_IN_FLIGHT: '24',
      },
    });
    try {
      const ctx = await subscribe(t, bot);
      bot.respond = async () => {
        await new Promise((r) => setTimeout(r, 2000));
        return 200;
      };
      const rows = await insertOutboxEvents(t.db, {
        pageId: ctx.page.id,
        appId: ctx.app.id,
        threads: Array.from({ length: 24 }, (_, i) => `c${i}`),
        perThread: 1,
      });
      await waitFor(
        'all delivered',
        async () => {
          const [{ n }] = await t.db.query(
            `SELECT count(*)::int AS n FROM webhook_deliveries WHERE app_id = $1 AND status = 'delivered'`,
            [ctx.app.id],
          );
          return n === rows.length;
        },
        { timeoutMs: 30_000 },
      );
      const errors = await t.db.query(
        `SELECT a.error FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.app_id = $1 AND a.error IS NOT NULL`,
        [ctx.app.id],
      );
      expect(errors).toEqual([]);
      expect(bot.maxInFlight).toBeGreaterThan(16);
    } finally {
      await t.close();
      await bot.close();
    }
  }, 60_000);

  it('SIGTERM during a probe: the probe is settled before the worker exits, and the endpoint resumes', async () => {
    const bot = await startBotReceiver('verify-me');
    const t = await startTestPlatform({
      role: 'api',
      env: {
        WEBHOOK_RECONCILE_INTERVAL_MS: '200',
        WEBHOOK_RETRY_SCHEDULE: '0,1',
        WEBHOOK_TIMEOUT_MS: '30000',
        WEBHOOK_WARN_AFTER_SECONDS: '1',
        WEBHOOK_PAUSE_AFTER_SECONDS: '1',
        WEBHOOK_PROBE_INTERVAL_SECONDS: '1',
      },
    });
    try {
      const ctx = await subscribe(t, bot);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      bot.respond = async (r) => {
        if (r.headers['x-switchboard-probe'] !== '1') return 500;
        await held;
        return 200;
      };
      const worker = await t.spawnSibling('worker');
      const [row] = await insertOutboxEvents(t.db, {
        pageId: ctx.page.id,
        appId: ctx.app.id,
        threads: ['p'],
        perThread: 1,
      });
      await waitFor(
        'the probe open',
        () => bot.inFlight === 1 && bot.received.at(-1)!.headers['x-switchboard-probe'] === '1',
        { timeoutMs: 20_000 },
      );
      const exited = worker.stop('SIGTERM');
      await waitFor('shutting down', () => worker.logs.join('').includes('shutting down'));
      release();
      expect(await exited).toBe(0);
      const [d] = await t.db.query(`SELECT status FROM webhook_deliveries WHERE id = $1`, [row.deliveryId]);
      const [ep] = await t.db.query(`SELECT paused_at FROM webhook_endpoints WHERE app_id = $1`, [ctx.app.id]);
      expect({ status: d.status, paused: ep.paused_at !== null }).toEqual({ status: 'delivered', paused: false });
    } finally {
      await t.close();
      await bot.close();
    }
  }, 60_000);

  it('Redis restarted empty mid-burst (down for a second): every event delivered, in order per thread', async () => {
    const { port, redis } = await startOwnRedis();
    let again: Awaited<ReturnType<typeof startOwnRedis>> | undefined;
    const bot = await startBotReceiver('verify-me');
    try {
      const t = await startTestPlatform({
        role: 'api',
        env: { REDIS_URL: `redis://127.0.0.1:${port}`, WEBHOOK_RECONCILE_INTERVAL_MS: '200', WEBHOOK_MAX_BATCH: '5' },
      });
      try {
        const ctx = await subscribe(t, bot);
        bot.respond = async () => {
          await new Promise((r) => setTimeout(r, 5));
          return 200;
        };
        const worker = await t.spawnSibling('worker');
        const rows = await insertOutboxEvents(t.db, {
          pageId: ctx.page.id,
          appId: ctx.app.id,
          threads: Array.from({ length: 10 }, (_, i) => `r${i}`),
          perThread: 40,
        });
        await waitFor('burst started', () => bot.received.length > 10);
        redis.kill('SIGKILL');
        await new Promise((r) => redis.once('exit', r));
        await new Promise((r) => setTimeout(r, 1000));
        again = await startOwnRedis(port);
        await waitFor(
          'every event delivered after the restart',
          async () => {
            const [{ n }] = await t.db.query(
              `SELECT count(*)::int AS n FROM webhook_deliveries WHERE app_id = $1 AND status = 'delivered'`,
              [ctx.app.id],
            );
            return n === rows.length;
          },
          { timeoutMs: 60_000 },
        ).catch((err: Error) => {
          throw new Error(`${err.message}\n${worker.logs.join('').split('\n').slice(-15).join('\n')}`);
        });
        // First arrivals in order per thread.
        const last = new Map<string, number>();
        const seen = new Set<string>();
        for (const r of bot.received) {
          const ids = String(r.headers['x-switchboard-delivery-ids']).split(',');
          texts(r).forEach((x, i) => {
            if (seen.has(ids[i])) return;
            seen.add(ids[i]);
            const [thread, n] = x.split('#');
            expect(Number(n)).toBe((last.get(thread) ?? -1) + 1);
            last.set(thread, Number(n));
          });
        }
        expect(seen.size).toBe(rows.length);
      } finally {
        await t.close();
      }
    } finally {
      await bot.close();
      redis.kill('SIGKILL');
      again?.redis.kill('SIGKILL');
    }
  }, 120_000);

  it("an app whose secret can't be opened to sign (SECRETS_KEY changed) gets failed attempts on record, not a silent loop of claims", async () => {
    const bot = await startBotReceiver('verify-me');
    const t = await startTestPlatform({
      role: 'api',
      env: {
        WEBHOOK_RECONCILE_INTERVAL_MS: '200',
        WEBHOOK_RETRY_SCHEDULE: '0,1',
        WEBHOOK_TIMEOUT_MS: '1000',
        WEBHOOK_WARN_AFTER_SECONDS: '1',
      },
    });
    try {
      const api = httpClient(t.url);
      const ctx = await subscribe(t, bot);
      // Sealed under another key: what a changed SECRETS_KEY leaves behind (read by a worker that has cached nothing).
      await t.db.query(
        `UPDATE app_secrets SET secret_sealed = 'v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA' WHERE app_id = $1`,
        [ctx.app.id],
      );
      await t.spawnSibling('worker');
      const [row] = await insertOutboxEvents(t.db, {
        pageId: ctx.page.id,
        appId: ctx.app.id,
        threads: ['k'],
        perThread: 1,
      });
      const attempts = await waitFor(
        'a failed attempt on record',
        async () => {
          const rows = await t.db.query(`SELECT error FROM webhook_attempts WHERE delivery_id = $1`, [row.deliveryId]);
          return rows.length ? rows : null;
        },
        { timeoutMs: 10_000 },
      );
      expect(attempts[0].error).toMatch(/sign/);
      const health = await waitFor(
        'the endpoint warned',
        async () => {
          const h = await api.get(`/apps/${ctx.app.id}/webhook`, { token: ctx.owner.token });
          return h.body.state === 'warning' ? h.body : null;
        },
        { timeoutMs: 10_000 },
      );
      expect(health.last_error_message).toMatch(/sign/);
      expect(bot.received).toEqual([]);
    } finally {
      await t.close();
      await bot.close();
    }
  }, 60_000);

  it('SIGTERM with batches open: every person whose message the bot acknowledged sees it Delivered', async () => {
    const bot = await startBotReceiver('verify-me');
    const t = await startTestPlatform({
      role: 'api',
      env: {
        WEBHOOK_RECONCILE_INTERVAL_MS: '200',
        WEBHOOK_MAX_BATCH: '1',
        WEBHOOK_ENDPOINT_MAX_IN_FLIGHT: '16',
        WEBHOOK_TIMEOUT_MS: '30000',
      },
    });
    try {
      const api = httpClient(t.url);
      const ctx = await subscribe(t, bot, ALL_FIELDS);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      bot.respond = async () => {
        await held;
        return 200;
      };
      const worker = await t.spawnSibling('worker');
      const people = await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const person = await signupPerson(api, `Customer ${i}`);
          const thread = await openThread(api, person, ctx.page.id);
          const sent = await personSays(api, person, thread.id, `hello ${i}`);
          return { person, thread, sent };
        }),
      );
      await waitFor('every message open at the bot', () => bot.inFlight === people.length, { timeoutMs: 20_000 }).catch(
        (e) => {
          throw new Error(`${e.message}: ${bot.inFlight} open, ${bot.received.length} received`);
        },
      );
      const exited = worker.stop('SIGTERM');
      await waitFor('shutting down', () => worker.logs.join('').includes('shutting down'));
      // The threads are busy (a person writing holds a thread's row): the receipts' write waits while the batches
      // settle and the worker goes on shutting down.
      const busy = new Client({ connectionString: t.db.url });
      await busy.connect();
      try {
        await busy.query('BEGIN');
        await busy.query(`SELECT 1 FROM threads WHERE id = ANY($1) FOR UPDATE`, [people.map((p) => p.thread.id)]);
        release();
        await waitFor('every batch settled', async () => {
          const [{ n }] = await t.db.query(
            `SELECT count(*)::int AS n FROM webhook_deliveries WHERE app_id = $1 AND status = 'delivered'`,
            [ctx.app.id],
          );
          return n === people.length;
        });
        await new Promise((r) => setTimeout(r, 1000));
        await busy.query('COMMIT');
      } finally {
        await busy.end();
      }
      expect(await exited).toBe(0);
      const [{ n }] = await t.db.query(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE app_id = $1 AND status = 'delivered'`,
        [ctx.app.id],
      );
      expect(n).toBe(people.length);
      const rows = await t.db.query(`SELECT id, page_delivered_seq FROM threads WHERE id = ANY($1)`, [
        people.map((p) => p.thread.id),
      ]);
      const lost = rows.filter(
        (r: any) => Number(r.page_delivered_seq) < people.find((p) => p.thread.id === r.id)!.sent.seq,
      );
      expect({
        lost: lost.length,
        log: lost.length
          ? worker.logs
              .join('')
              .split('\n')
              .filter((l) => /receipt/i.test(l))
              .slice(0, 3)
          : [],
      }).toEqual({ lost: 0, log: [] });
    } finally {
      await t.close();
      await bot.close();
    }
  }, 90_000);
  it('a batch the bot refuses as too large (413) is sent again at once as smaller ones, down to what it takes: every event delivered, in order', async () => {
    const bot = await startBotReceiver('verify-me');
    // The retry schedule's wait is a minute: only a re-send at once delivers within the test.
    const t = await startTestPlatform({
      env: { WEBHOOK_RECONCILE_INTERVAL_MS: '200', WEBHOOK_RETRY_SCHEDULE: '60', WEBHOOK_MAX_BATCH: '50' },
    });
    try {
      const ctx = await subscribe(t, bot);
      // An Express-style body limit: more than three entries is too large.
      bot.respond = (r) => (texts(r).length > 3 ? 413 : 200);
      const rows = await insertOutboxEvents(t.db, {
        pageId: ctx.page.id,
        appId: ctx.app.id,
        threads: ['a', 'b', 'c', 'd'],
        perThread: 5,
      });
      const delivered = async () =>
        (
          await t.db.query(
            `SELECT count(*)::int AS n FROM webhook_deliveries WHERE app_id = $1 AND status = 'delivered'`,
            [ctx.app.id],
          )
        )[0].n;
      await waitFor('every event delivered', async () => (await delivered()) === rows.length, { timeoutMs: 20_000 });
      const accepted = bot.received.filter((r) => texts(r).length <= 3);
      // It used to send the whole batch again on the retry schedule until its events expired.
      expect(bot.received.length).toBeGreaterThan(accepted.length);
      expect(accepted.flatMap(texts).sort()).toEqual(rows.map((r) => `${r.threadKey}#${r.n}`).sort());
      for (const thread of ['a', 'b', 'c', 'd']) {
        const order = accepted.flatMap(texts).filter((x) => x.startsWith(`${thread}#`));
        expect(order).toEqual([0, 1, 2, 3, 4].map((n) => `${thread}#${n}`));
      }
      // Each accepted batch under a webhook-id of its own: a receiver that dedupes on it drops none.
      const ids = accepted.map((r) => String(r.headers['webhook-id']));
      expect(new Set(ids).size).toBe(ids.length);

      // The halves' size is remembered: the next burst is batched to fit, with no 413 to learn it again.
      const before = bot.received.length;
      const more = await insertOutboxEvents(t.db, {
        pageId: ctx.page.id,
        appId: ctx.app.id,
        threads: ['e', 'f', 'g', 'h'],
        perThread: 5,
      });
      await waitFor('the next burst delivered', async () => (await delivered()) === rows.length + more.length, {
        timeoutMs: 20_000,
      });
      const later = bot.received.slice(before);
      expect(later.filter((r) => texts(r).length > 3)).toEqual([]);
      expect(later.flatMap(texts).sort()).toEqual(more.map((r) => `${r.threadKey}#${r.n}`).sort());
    } finally {
      await t.close();
      await bot.close();
    }
  }, 60_000);
});
