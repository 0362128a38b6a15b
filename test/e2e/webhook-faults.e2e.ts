import { Client } from 'pg';
import { startBotReceiver, BotReceiver } from '../support/bot-receiver';
import { httpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { pageWithApp, signupPerson } from '../factories/registry.factory';
import { ALL_FIELDS, openThread, personSays } from '../factories/messaging.factory';

// Faults around the delivery worker that the gateway's own tests don't stage: a graceful stop with batches open.

async function subscribe(t: TestPlatform, bot: BotReceiver, fields = 'messages,messaging_postbacks') {
  const api = httpClient(t.url);
  const ctx = await pageWithApp(api);
  const res = await api.post(`/v25.0/${ctx.app.id}/subscriptions`, {
    access_token: ctx.app.token,
    object: 'page',
    callback_url: bot.url,
    verify_token: 'verify-me',
    fields,
  });
  expect(res.body).toEqual({ success: true });
  return ctx;
}

describe('webhook delivery under faults', () => {
  it("SIGTERM with batches open: every person whose message the bot acknowledged sees it Delivered", async () => {
    const bot = await startBotReceiver('verify-me');
    const t = await startTestPlatform({
      role: 'api',
      env: { WEBHOOK_RECONCILE_INTERVAL_MS: '200', WEBHOOK_MAX_BATCH: '1', WEBHOOK_ENDPOINT_MAX_IN_FLIGHT: '16', WEBHOOK_TIMEOUT_MS: '30000' },
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
      await waitFor('every message open at the bot', () => bot.inFlight === people.length, { timeoutMs: 20_000 }).catch((e) => {
        throw new Error(`${e.message}: ${bot.inFlight} open, ${bot.received.length} received`);
      });
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
      const rows = await t.db.query(`SELECT id, page_delivered_seq FROM threads WHERE id = ANY($1)`, [people.map((p) => p.thread.id)]);
      const lost = rows.filter((r: any) => Number(r.page_delivered_seq) < people.find((p) => p.thread.id === r.id)!.sent.seq);
      expect({ lost: lost.length, log: lost.length ? worker.logs.join('').split('\n').filter((l) => /receipt/i.test(l)).slice(0, 3) : [] }).toEqual({ lost: 0, log: [] });
    } finally {
      await t.close();
      await bot.close();
    }
  }, 90_000);
});
