import { Client } from 'pg';
import { startBotReceiver, BotReceiver, ReceivedRequest } from '../support/bot-receiver';
import { httpClient } from '../support/http-client';
import { insertOutboxEvents } from '../support/outbox';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { ALL_FIELDS, conversation } from '../factories/messaging.factory';
import { connectApp, createApp } from '../factories/registry.factory';

// A bot moving between push (a page subscription) and pull (GET /events): no event is stranded in the mode it
// left. A failed attempt waits an hour here, so what failed stays pending until the test moves it.
describe('webhook push and pull: switching modes', () => {
  let t: TestPlatform;
  const bots: BotReceiver[] = [];
  beforeAll(async () => {
    t = await startTestPlatform({ env: { WEBHOOK_RECONCILE_INTERVAL_MS: '200', WEBHOOK_RETRY_SCHEDULE: '0,3600' } });
  });
  afterAll(async () => {
    await Promise.all(bots.map((b) => b.close()));
    await t?.close();
  });
  const newBot = async () => {
    const b = await startBotReceiver('verify-me');
    bots.push(b);
    return b;
  };
  const statuses = async (ids: string[]) =>
    (await t.db.query(`SELECT status FROM webhook_deliveries WHERE id = ANY($1) ORDER BY seq`, [ids])).map((r: { status: string }) => r.status);
  const seqOf = async (id: string) => (await t.db.query(`SELECT seq FROM webhook_deliveries WHERE id = $1`, [id]))[0].seq as string;
  const deliveryIds = (received: ReceivedRequest[]) =>
    received.flatMap((r) => String(r.headers['x-switchboard-delivery-ids']).split(','));

  it('an app that drops its subscription pulls what waited to be pushed; a cursor acknowledges only what was served', async () => {
    const api = httpClient(t.url);
    const bot = await newBot();
    bot.respond = () => 500;
    const ctx = await conversation(api, bot);
    const waiting = (await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: ['8001'], perThread: 3 })).map(
      (r) => r.deliveryId,
    );
    await waitFor('the first attempt failed', async () => {
      const rows = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE id = ANY($1) AND status = 'pending' AND attempts = 1`, [
        waiting,
      ]);
      return rows[0].n === 3;
    });
    const posts = bot.received.length;

    const tok = encodeURIComponent(ctx.app.token);
    expect((await api.delete(`/v25.0/${ctx.app.id}/subscriptions?access_token=${tok}`)).body).toEqual({ success: true });
    // Written after the subscription went: pull from the start.
    const [later] = (await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: ['8001'], perThread: 1, status: 'pull' })).map(
      (r) => r.deliveryId,
    );

    const first = await api.get(`/v25.0/${ctx.app.id}/events?limit=1&access_token=${tok}&pretty=0&format=json`);
    expect(first.status).toBe(200);
    expect(first.body.data.map((e: { delivery_id: string }) => e.delivery_id)).toEqual([waiting[0]]);
    expect(first.body.data[0].entry[0].messaging[0].message.text).toBe('8001#0 äöå 👋');
    // A cursor past deliveries never served acknowledges only the served one; the others come next, in order.
    const past = await api.get(`/v25.0/${ctx.app.id}/events?after=${await seqOf(waiting[2])}&access_token=${tok}`);
    expect(past.body.data.map((e: { delivery_id: string }) => e.delivery_id)).toEqual([waiting[1], waiting[2], later]);
    expect(await statuses([...waiting, later])).toEqual(['delivered', 'pull', 'pull', 'pull']);
    // A cursor past what a bigint holds is refused as one this API never gave, not failed inside Postgres.
    const beyond = await api.get(`/v25.0/${ctx.app.id}/events?after=9999999999999999999&access_token=${tok}`);
    expect([beyond.status, beyond.body.error?.code]).toEqual([400, 100]);
    const done = await api.get(`/v25.0/${ctx.app.id}/events?after=${past.body.paging.next_cursor}&access_token=${tok}`);
    expect(done.body.data).toEqual([]);
    expect(await statuses([...waiting, later])).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    // Nothing was pushed after the subscription went.
    expect(bot.received.length).toBe(posts);
  });

  it('an app that subscribes after pulling gets everything it has not acknowledged pushed, oldest first', async () => {
    const api = httpClient(t.url);
    const ctx = await conversation(api);
    const rows = (await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: ['8002', '8003'], perThread: 2, status: 'pull' })).map(
      (r) => r.deliveryId,
    );
    const tok = encodeURIComponent(ctx.app.token);
    // Served, never acknowledged: pushed too (at least once).
    const served = await api.get(`/v25.0/${ctx.app.id}/events?limit=2&access_token=${tok}`);
    expect(served.body.data).toHaveLength(2);

    const bot = await newBot();
    const sub = await api.post(`/v25.0/${ctx.app.id}/subscriptions`, {
      access_token: ctx.app.token,
      object: 'page',
      callback_url: bot.url,
      verify_token: 'verify-me',
      fields: ALL_FIELDS,
    });
    expect(sub.body).toEqual({ success: true });
    await waitFor('all pushed and acknowledged', async () => (await statuses(rows)).every((s) => s === 'delivered'));
    expect(deliveryIds(bot.received).filter((id) => rows.includes(id))).toEqual(rows);
    expect((await api.get(`/v25.0/${ctx.app.id}/events?access_token=${tok}`)).body.data).toEqual([]);
    const health = await api.get(`/apps/${ctx.app.id}/webhook`, { token: ctx.owner.token });
    expect(health.body).toMatchObject({ mode: 'push', pending_pull_count: 0, pending_update_count: 0 });
  });

  it('a Page that disconnects an app takes back what the app never got: no push, no pull, no log entry, no replay', async () => {
    const api = httpClient(t.url);
    const bot = await newBot();
    const ctx = await conversation(api, bot);
    // Delivered history, then a failing bot: what follows waits for its retry (an hour here).
    const [done] = (await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: ['8101'], perThread: 1 })).map((r) => r.deliveryId);
    await waitFor('the first delivered', async () => (await statuses([done]))[0] === 'delivered');
    bot.respond = () => 500;
    const waiting = (await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: ['8101', '8102'], perThread: 2 })).map(
      (r) => r.deliveryId,
    );
    await waitFor('the failed attempts', async () => (await statuses(waiting)).length === 4 && bot.received.length >= 2);
    const pulled = (await insertOutboxEvents(t.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: ['8103'], perThread: 2, status: 'pull' })).map(
      (r) => r.deliveryId,
    );
    // The same events also go to another app of the Page, which stays connected: its copies and their events stay.
    const eventIds = (await t.db.query(`SELECT event_id FROM webhook_deliveries WHERE id = ANY($1)`, [[...waiting, ...pulled]])).map(
      (r: { event_id: string }) => r.event_id,
    );
    const other = await createApp(api, ctx.owner, 'Other bot');
    await connectApp(api, ctx.owner, ctx.page.id, other.id);
    const [kept] = (await t.db.query(
      `INSERT INTO webhook_deliveries (id, event_id, app_id, page_id, thread_key, status) VALUES (gen_random_uuid(), $1, $2, $3, '8101', 'pull') RETURNING id`,
      [eventIds[0], other.id, ctx.page.id],
    )) as { id: string }[];

    const gone = await api.delete(`/pages/${ctx.page.id}/apps/${ctx.app.id}`, { token: ctx.owner.token });
    expect(gone.status).toBe(204);
    const left = await t.db.query(`SELECT id, status FROM webhook_deliveries WHERE app_id = $1`, [ctx.app.id]);
    expect(left).toEqual([{ id: done, status: 'delivered' }]);
    expect(await t.db.query(`SELECT id FROM webhook_attempts WHERE delivery_id = ANY($1)`, [waiting])).toEqual([]);
    const events = (await t.db.query(`SELECT id FROM webhook_events WHERE id = ANY($1)`, [eventIds])).map((r: { id: string }) => r.id);
    expect(events).toEqual([eventIds[0]]);
    expect((await t.db.query(`SELECT id FROM webhook_deliveries WHERE id = $1`, [kept.id])).length).toBe(1);

    const tok = encodeURIComponent(ctx.app.token);
    const pull = await api.get(`/v25.0/${ctx.app.id}/events?access_token=${tok}`);
    expect(pull.body.data).toEqual([]);
    const log = await api.get(`/apps/${ctx.app.id}/deliveries`, { token: ctx.owner.token });
    expect(log.body.data.map((d: { id: string }) => d.id)).toEqual([done]);
    // History it had is not sent to it again while the Page is not connected to it.
    bot.respond = () => 200;
    const replay = await api.post(
      `/apps/${ctx.app.id}/replay`,
      { since: new Date(Date.now() - 3_600_000).toISOString(), until: new Date(Date.now() + 60_000).toISOString() },
      { token: ctx.owner.token },
    );
    expect(replay.body.replayed).toBe(0);
    const retry = await api.post(`/apps/${ctx.app.id}/deliveries/${done}/retry`, undefined, { token: ctx.owner.token });
    expect(retry.status).toBe(409);
    expect(retry.body.code).toBe('WEBHOOK.PAGE_DISCONNECTED');
    expect(await statuses([done])).toEqual(['delivered']);
  });

  it('answers a disconnect that waited 5 s for a long outbox writer 503 PAGE.BUSY, changing nothing', async () => {
    const api = httpClient(t.url);
    const ctx = await conversation(api);
    const writer = new Client({ connectionString: t.db.url });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query('LOCK TABLE webhook_deliveries IN ROW EXCLUSIVE MODE');
      const busy = await api.delete(`/pages/${ctx.page.id}/apps/${ctx.app.id}`, { token: ctx.owner.token });
      expect(busy.status).toBe(503);
      expect(busy.body.code).toBe('PAGE.BUSY');
      expect(busy.headers['retry-after']).toBe('5');
    } finally {
      await writer.query('ROLLBACK');
      await writer.end();
    }
    expect((await api.get(`/pages/${ctx.page.id}/apps`, { token: ctx.owner.token })).body.data.map((a: { app_id: string }) => a.app_id)).toEqual([ctx.app.id]);
    expect((await api.get(`/v25.0/me?access_token=${ctx.pageToken}`)).status).toBe(200);
    expect((await api.delete(`/pages/${ctx.page.id}/apps/${ctx.app.id}`, { token: ctx.owner.token })).status).toBe(204);
  }, 30_000);

  it('takes two disconnects queued behind the same outbox writer one after the other, neither failing', async () => {
    const api = httpClient(t.url);
    const [a, b] = [await conversation(api), await conversation(api)];
    const writer = new Client({ connectionString: t.db.url });
    await writer.connect();
    await writer.query('BEGIN');
    await writer.query('LOCK TABLE webhook_deliveries IN ROW EXCLUSIVE MODE');
    const both = [a, b].map((c) => api.delete(`/pages/${c.page.id}/apps/${c.app.id}`, { token: c.owner.token }));
    await new Promise((r) => setTimeout(r, 150));
    await writer.query('COMMIT');
    await writer.end();
    expect((await Promise.all(both)).map((r) => r.status)).toEqual([204, 204]);
    for (const c of [a, b]) expect((await api.get(`/pages/${c.page.id}/apps`, { token: c.owner.token })).body.data).toEqual([]);
  }, 30_000);
  // A sender goes on claiming round after round while an app has a backlog; the URL it posts to was read when it
  // started. A changed callback URL is used from the next batch, not after that sender's last round (up to the
  // slot's lease, ~35 s).
  it('sends a backlog to a changed callback URL from the next batch on', async () => {
    const own = await startTestPlatform({
      env: { WEBHOOK_MAX_BATCH: '1', WEBHOOK_ENDPOINT_MAX_IN_FLIGHT: '1', WEBHOOK_RECONCILE_INTERVAL_MS: '200' },
    });
    try {
      const api = httpClient(own.url);
      const [before, after] = [await newBot(), await newBot()];
      before.respond = async () => {
        await new Promise((r) => setTimeout(r, 100));
        return 200;
      };
      const ctx = await conversation(api, before);
      const ids = (await insertOutboxEvents(own.db, { pageId: ctx.page.id, appId: ctx.app.id, threads: ['8201'], perThread: 30 })).map((r) => r.deliveryId);
      await waitFor('a few sent to the first URL', () => before.received.length >= 3);
      const sub = await api.post(`/v25.0/${ctx.app.id}/subscriptions`, {
        access_token: ctx.app.token,
        object: 'page',
        callback_url: after.url,
        verify_token: 'verify-me',
        fields: ALL_FIELDS,
      });
      expect(sub.body).toEqual({ success: true });
      const sentBefore = before.received.length;
      await waitFor('all delivered', async () => (await own.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE id = ANY($1) AND status = 'delivered'`, [ids]))[0].n === ids.length);
      // At most the POST open at the change (claimed before it) reaches the old URL; the rest go to the new one, in order.
      expect(before.received.length - sentBefore).toBeLessThanOrEqual(1);
      expect([...deliveryIds(before.received), ...deliveryIds(after.received)]).toEqual(ids);
    } finally {
      await own.close();
    }
  });
});

