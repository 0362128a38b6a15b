import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { startBotReceiver, BotReceiver } from '../support/bot-receiver';
import { httpClient } from '../support/http-client';
import { insertOutboxEvents } from '../support/outbox';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { conversation } from '../factories/messaging.factory';
import { createApp } from '../factories/registry.factory';
import { PRUNE_LOCK } from '../../src/webhooks/jobs/prune-lock';

// Finished webhook history past WEBHOOK_RETENTION_SECONDS goes; what is unfinished stays, however old.
describe('webhook history retention', () => {
  let t: TestPlatform;
  let bot: BotReceiver;
  beforeAll(async () => {
    bot = await startBotReceiver('verify-me');
    t = await startTestPlatform({ env: { WEBHOOK_RECONCILE_INTERVAL_MS: '200' } });
  });
  afterAll(async () => {
    await bot?.close();
    await t?.close();
  });

  // Written (and, unless `deliveredNow`, delivered) two hours ago.
  const backdate = (deliveryIds: string[], { deliveredNow = false } = {}) =>
    t.db.query(
      `WITH d AS (
         UPDATE webhook_deliveries SET created_at = now() - interval '2 hours',
                delivered_at = CASE WHEN $2 THEN delivered_at ELSE delivered_at - interval '2 hours' END
          WHERE id = ANY($1) RETURNING event_id)
       UPDATE webhook_events SET created_at = now() - interval '2 hours' WHERE id IN (SELECT event_id FROM d)`,
      [deliveryIds, deliveredNow],
    );
  const eventOf = async (deliveryId: string) =>
    (await t.db.query(`SELECT event_id FROM webhook_deliveries WHERE id = $1`, [deliveryId]))[0].event_id as string;

  it('deletes finished deliveries, their attempts and then their events; keeps unfinished ones and their events', async () => {
    const api = httpClient(t.url);
    const ctx = await conversation(api, bot);
    // App A: four delivered by webhook, each with its attempt. The first two become old; the last was written
    // long ago but delivered only now (a backlog after a pause): its retention has only begun.
    const delivered = (await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: ['7001'], perThread: 4 })).map(
      (r) => r.deliveryId,
    );
    await waitFor('delivered', async () => {
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE id = ANY($1) AND status = 'delivered'`, [delivered]);
      return n === 4;
    });
    const [{ attempts }] = await t.db.query(`SELECT count(*)::int AS attempts FROM webhook_attempts WHERE delivery_id = ANY($1)`, [delivered]);
    expect(attempts).toBe(4);

    // App B, a pull app: not yet pulled, failed for good, in flight, and one whose event app A also had.
    const pullApp = await createApp(api, ctx.owner, 'Puller');
    const [unpulled, failed, inFlight, shared] = (
      await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: pullApp.id, threads: ['7002'], perThread: 4, status: 'pull' })
    ).map((r) => r.deliveryId);
    await t.db.query(`UPDATE webhook_deliveries SET status = 'failed', attempts = 1 WHERE id = $1`, [failed]);
    await t.db.query(`UPDATE webhook_deliveries SET status = 'in_flight', lease_until = now() + interval '1 hour' WHERE id = $1`, [inFlight]);
    const sharedByA = randomUUID();
    await t.db.query(
      `INSERT INTO webhook_deliveries (id, event_id, app_id, page_id, thread_key, status, attempts, delivered_at)
       VALUES ($1, $2, $3, $4, '7002', 'delivered', 1, now())`,
      [sharedByA, await eventOf(shared), ctx.app.id, ctx.page.id],
    );
    const events = {
      old: [await eventOf(delivered[0]), await eventOf(delivered[1]), await eventOf(failed)],
      kept: [await eventOf(delivered[2]), await eventOf(delivered[3]), await eventOf(unpulled), await eventOf(inFlight), await eventOf(shared)],
    };
    await backdate([delivered[0], delivered[1], unpulled, failed, inFlight, shared, sharedByA]);
    await backdate([delivered[3]], { deliveredNow: true });

    const pruner = await t.spawnSibling('worker', { WEBHOOK_PRUNE_INTERVAL_MS: '200', WEBHOOK_RETENTION_SECONDS: '3600' });
    try {
      await waitFor('old finished deliveries pruned', async () => {
        const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE id = ANY($1)`, [
          [delivered[0], delivered[1], failed, sharedByA],
        ]);
        return n === 0;
      });
      // Its next ticks find nothing more to take.
      await new Promise((r) => setTimeout(r, 600));
    } finally {
      await pruner.stop();
    }

    const left = await t.db.query(`SELECT id, status FROM webhook_deliveries WHERE id = ANY($1) ORDER BY seq`, [
      [...delivered, unpulled, failed, inFlight, shared, sharedByA],
    ]);
    expect(left).toEqual([
      { id: delivered[2], status: 'delivered' },
      { id: delivered[3], status: 'delivered' },
      { id: unpulled, status: 'pull' },
      { id: inFlight, status: 'in_flight' },
      { id: shared, status: 'pull' },
    ]);
    const attemptsLeft = await t.db.query(`SELECT delivery_id FROM webhook_attempts WHERE delivery_id = ANY($1)`, [delivered]);
    expect(attemptsLeft.map((a: { delivery_id: string }) => a.delivery_id).sort()).toEqual([delivered[2], delivered[3]].sort());
    const eventsLeft = await t.db.query(`SELECT id FROM webhook_events WHERE id = ANY($1)`, [[...events.old, ...events.kept]]);
    expect(eventsLeft.map((e: { id: string }) => e.id).sort()).toEqual([...events.kept].sort());

    // The attempt log reaches back as far as retention; the pull app still gets both its old events, whole.
    const auth = { token: ctx.owner.token };
    expect((await api.get(`/apps/${ctx.app.id}/deliveries/${delivered[0]}`, auth)).status).toBe(404);
    const log = await api.get(`/apps/${ctx.app.id}/deliveries`, auth);
    expect(log.body.data.map((d: { id: string }) => d.id)).toEqual([delivered[3], delivered[2]]);
    const pulled = await api.get(`/v25.0/${pullApp.id}/events?access_token=${encodeURIComponent(pullApp.token)}`);
    expect(pulled.body.data.map((e: { delivery_id: string }) => e.delivery_id)).toEqual([unpulled, shared]);
    expect(pulled.body.data[1].entry[0].messaging[0].message.text).toBe('7002#3 äöå 👋');
  });

  it('prunes a history longer than a batch in one tick, going round the apps due', async () => {
    const api = httpClient(t.url);
    const ctx = await conversation(api);
    const big = await createApp(api, ctx.owner, 'Big history');
    const small = await createApp(api, ctx.owner, 'Small history');
    const threads = Array.from({ length: 41 }, (_, i) => `91${String(i).padStart(2, '0')}`);
    const bigRows = await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: big.id, threads, perThread: 100, status: 'pull' });
    const smallRows = await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: small.id, threads: ['9200'], perThread: 3, status: 'pull' });
    expect(bigRows.length).toBe(4100); // more than two batches of 2,000
    await t.db.query(
      `UPDATE webhook_deliveries SET status = 'delivered', created_at = now() - interval '2 hours', delivered_at = now() - interval '2 hours'
        WHERE app_id = ANY($1)`,
      [[big.id, small.id]],
    );
    const pruner = await t.spawnSibling('worker', { WEBHOOK_PRUNE_INTERVAL_MS: '200', WEBHOOK_RETENTION_SECONDS: '3600' });
    try {
      const line = await waitFor('a tick that removed something', () => pruner.logs.join('').match(/removed (\d+) deliveries, (\d+) attempts and (\d+) events/));
      expect(line.slice(1).map(Number)).toEqual([4103, 0, 4103]);
      const metrics = (await httpClient(pruner.url).get('/metrics')).text;
      expect(metrics).toMatch(/switchboard_webhook_pruned_total\{kind="deliveries"\} 4103\b/);
      expect(metrics).toMatch(/switchboard_webhook_pruned_total\{kind="events"\} 4103\b/);
    } finally {
      await pruner.stop();
    }
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE app_id = ANY($1)`, [[big.id, small.id]]);
    expect(n).toBe(0);
    expect(smallRows).toHaveLength(3);
  });

  it('prunes one worker at a time: while another holds the pruning lock it deletes nothing, then it prunes all', async () => {
    const api = httpClient(t.url);
    const ctx = await conversation(api);
    const [one, two] = [await createApp(api, ctx.owner, 'One'), await createApp(api, ctx.owner, 'Two')];
    await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: one.id, threads: ['9301', '9302'], perThread: 50, status: 'pull' });
    // Every event has a delivery for each app, as for two apps connected to one page: two pruners deleting one
    // app's each at once would each see the other's and keep the event.
    await t.db.query(
      `INSERT INTO webhook_deliveries (id, event_id, app_id, page_id, thread_key, status)
       SELECT gen_random_uuid(), event_id, $2, page_id, thread_key, 'pull' FROM webhook_deliveries WHERE app_id = $1 ORDER BY seq`,
      [one.id, two.id],
    );
    const [{ events }] = await t.db.query(
      `WITH u AS (
         UPDATE webhook_deliveries SET status = 'delivered', created_at = now() - interval '2 hours', delivered_at = now() - interval '2 hours'
          WHERE app_id = ANY($1) RETURNING event_id)
       SELECT array_agg(DISTINCT event_id) AS events FROM u`,
      [[one.id, two.id]],
    );
    expect(events).toHaveLength(100);
    const count = async () =>
      (await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE app_id = ANY($1)`, [[one.id, two.id]]))[0].n as number;

    // Another pruner, as far as this one can tell: the same two-key advisory lock, held by this test's session.
    const holder = new Client({ connectionString: t.db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', PRUNE_LOCK);
      const pruner = await t.spawnSibling('worker', {
        WEBHOOK_PRUNE_INTERVAL_MS: '100',
        WEBHOOK_RETENTION_SECONDS: '3600',
        LOG_LEVEL: 'debug',
      });
      try {
        // Tick after tick it finds work, and the lock sends it away.
        await waitFor('three ticks turned away', () => pruner.logs.join('').split('this tick yields').length > 3);
        expect(await count()).toBe(200);
        await holder.query('SELECT pg_advisory_unlock($1, $2)', PRUNE_LOCK);
        await waitFor('pruned once the lock is free', async () => (await count()) === 0);
      } finally {
        await pruner.stop();
      }
    } finally {
      await holder.end();
    }
    const [{ left }] = await t.db.query(`SELECT count(*)::int AS left FROM webhook_events WHERE id = ANY($1)`, [events]);
    expect(left).toBe(0);
  });
});
