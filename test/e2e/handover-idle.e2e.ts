import { Client } from 'pg';
import { BotReceiver, receivedEntries, waitForEntry } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { openThread, personSays } from '../factories/messaging.factory';
import { createPage, signupPerson, subscribedApp } from '../factories/registry.factory';

const FIELDS = ['messages', 'message_echoes', 'standby', 'messaging_handovers'];
const INBOX = '263902037430900';
const HOUR_MS = 3_600_000;

// Messenger's handover idle timeout over real Postgres and Redis, with two processes sweeping (the platform and a
// second worker). The timeout is an hour and the tests age a thread by moving its clocks (last_timestamp,
// owner_since) back two hours, rather than waiting out a short timeout: what expires and what doesn't is then
// decided by the data alone, however slow the machine. HANDOVER_IDLE_TIMEOUT_SECONDS is still what decides (the
// default, a day, would expire none of them).
describe('handover idle timeout', () => {
  let t: TestPlatform;
  let api: HttpClient;
  const receivers: BotReceiver[] = [];

  beforeAll(async () => {
    t = await startTestPlatform({
      env: { HANDOVER_IDLE_TIMEOUT_SECONDS: '3600', HANDOVER_IDLE_SWEEP_INTERVAL_MS: '200', WEBHOOK_RECONCILE_INTERVAL_MS: '500' },
    });
    await t.spawnSibling('worker');
    api = httpClient(t.url);
  });
  afterAll(async () => {
    for (const r of receivers) await r.close();
    await t?.close();
  });

  const entries = receivedEntries;

  // A Page with a primary bot and a secondary (the agents' tool), each with a verifying receiver.
  async function setup() {
    const owner = await signupPerson(api, 'Business');
    const page = await createPage(api, owner);
    const apps: { id: string; secret: string; token: string; pageToken: string; bot: BotReceiver }[] = [];
    for (const name of ['Bot', 'Agents']) {
      const app = await subscribedApp(api, owner, page.id, name, FIELDS);
      receivers.push(app.bot);
      apps.push(app);
    }
    const [primary, secondary] = apps;
    for (const [app, role] of [[primary, 'primary'], [secondary, 'secondary']] as const) {
      expect((await api.put(`/pages/${page.id}/apps/${app.id}/handover-role`, { role }, { token: owner.token })).status).toBe(200);
    }
    return { owner, page, primary, secondary };
  }
  type Setup = Awaited<ReturnType<typeof setup>>;

  // A person's conversation with the Page, opened with a message (so the Send API's window is open).
  async function conversation(c: Setup) {
    const person = await signupPerson(api, 'Customer');
    const thread = await openThread(api, person, c.page.id);
    await personSays(api, person, thread.id, 'hello');
    const [{ psid }] = await t.db.query('SELECT psid FROM threads WHERE id = $1', [thread.id]);
    return { person, thread, psid: psid as string };
  }
  type Conversation = Awaited<ReturnType<typeof conversation>>;

  const graph = (token: string, path: string, body: unknown) => api.post(`/v25.0/me/${path}?access_token=${encodeURIComponent(token)}`, body);
  const send = (token: string, v: Conversation, text: string) =>
    graph(token, 'messages', { recipient: { id: v.psid }, messaging_type: 'RESPONSE', message: { text } });
  const passTo = async (c: Setup, v: Conversation, target: string) =>
    expect((await graph(c.primary.pageToken, 'pass_thread_control', { recipient: { id: v.psid }, target_app_id: target })).body).toEqual({ success: true });
  const owner = async (c: Setup, v: Conversation) =>
    (await api.get(`/v25.0/me/thread_owner?recipient=${v.psid}&access_token=${encodeURIComponent(c.primary.pageToken)}`)).body.data[0]?.thread_owner.app_id;
  // Moves a thread's clocks back: its last message, or when control last changed.
  const age = (v: Conversation, what: { message?: boolean; control?: boolean }) =>
    t.db.query(
      `UPDATE threads SET last_timestamp = last_timestamp - $2::bigint, owner_since = owner_since - $3::bigint WHERE id = $1`,
      [v.thread.id, what.message ? 2 * HOUR_MS : 0, what.control ? 2 * HOUR_MS : 0],
    );
  const idle = async (v: Conversation) => (await t.db.query('SELECT owner_app_id FROM threads WHERE id = $1', [v.thread.id]))[0].owner_app_id === null;
  const notices = (bot: BotReceiver, v: Conversation, kind: string) => entries(bot).filter(([, m]) => m.sender?.id === v.psid && m[kind]);

  it('hands a thread whose secondary stayed inactive back to the primary, telling both', async () => {
    const c = await setup();
    const v = await conversation(c);
    await passTo(c, v, c.secondary.id);
    const [{ owner_since }] = await t.db.query('SELECT owner_since FROM threads WHERE id = $1', [v.thread.id]);
    expect(Number(owner_since)).toBeGreaterThan(Date.now() - HOUR_MS);
    expect(await owner(c, v)).toBe(c.secondary.id);
    expect((await send(c.secondary.pageToken, v, 'Ada from support here')).status).toBe(200);

    await age(v, { message: true, control: true });
    await waitFor('control back with the primary', async () => (await owner(c, v)) === c.primary.id);
    expect(await idle(v)).toBe(true);
    const refused = await send(c.secondary.pageToken, v, 'still there?');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 10, error_subcode: 2018300 });
    expect((await send(c.primary.pageToken, v, 'The bot again')).status).toBe(200);

    const expiry = { previous_owner_app_id: c.secondary.id, new_owner_app_id: c.primary.id, metadata: 'idle_timeout' };
    const [key, passed] = await waitForEntry('the primary told', c.primary.bot, (_, m) => m.pass_thread_control?.metadata === 'idle_timeout');
    expect([key, passed]).toEqual(['messaging', { sender: { id: v.psid }, recipient: { id: c.page.id }, timestamp: expect.any(Number), pass_thread_control: expiry }]);
    const [, taken] = await waitForEntry('the secondary told', c.secondary.bot, (_, m) => m.take_thread_control);
    expect(taken).toEqual({ sender: { id: v.psid }, recipient: { id: c.page.id }, timestamp: expect.any(Number), take_thread_control: expiry });
    // The person's next message goes to the primary.
    const next = await personSays(api, v.person, v.thread.id, 'anyone?');
    await waitForEntry('the message to the primary', c.primary.bot, (k, m) => k === 'messaging' && m.message?.mid === next.mid);
  });

  it('keeps control where a message or the change of control is recent', async () => {
    const c = await setup();
    const [talking, justPassed, quiet] = [await conversation(c), await conversation(c), await conversation(c)];
    for (const v of [talking, justPassed, quiet]) await passTo(c, v, c.secondary.id);
    // Passed long ago, but the agent wrote a moment ago.
    expect((await send(c.secondary.pageToken, talking, 'one moment please')).status).toBe(200);
    await age(talking, { control: true });
    // Quiet for long, but passed a moment ago.
    await age(justPassed, { message: true });
    // Last, so the tick that expires it saw the other two as they are now.
    await age(quiet, { message: true, control: true });
    await waitFor('the quiet thread idle', () => idle(quiet));
    expect(await owner(c, talking)).toBe(c.secondary.id);
    expect(await owner(c, justPassed)).toBe(c.secondary.id);
    expect(notices(c.secondary.bot, talking, 'take_thread_control')).toEqual([]);
    expect(notices(c.secondary.bot, justPassed, 'take_thread_control')).toEqual([]);
  });

  it('hands a Page Inbox thread back to the bot, telling only the primary', async () => {
    const c = await setup();
    const v = await conversation(c);
    const take = await api.post(`/pages/${c.page.id}/inbox/${v.thread.id}/take`, {}, { token: c.owner.token });
    expect(take.body.control).toMatchObject({ controller_app_id: INBOX, inbox_has_control: true });
    await waitForEntry('the take notice', c.primary.bot, (_, m) => m.sender?.id === v.psid && m.take_thread_control);
    // The Page's admin watches the inbox live: the expiry is pushed to their console.
    const admin = await connectPerson(t.url, c.owner.token);
    admin.ws.send(JSON.stringify({ type: 'watch_inbox', ref: 'w', page_id: c.page.id }));
    expect(await admin.waitFor('watching', (e) => e.ref === 'w')).toMatchObject({ type: 'watching' });

    await age(v, { message: true, control: true });
    await waitFor('control back with the bot', async () => (await owner(c, v)) === c.primary.id);
    await admin.waitFor('the inbox hint', (e) => e.type === 'inbox' && e.thread_ids?.includes(v.thread.id));
    await admin.close();
    const [, passed] = await waitForEntry('the primary told', c.primary.bot, (_, m) => m.sender?.id === v.psid && m.pass_thread_control);
    expect(passed.pass_thread_control).toEqual({ previous_owner_app_id: INBOX, new_owner_app_id: c.primary.id, metadata: 'idle_timeout' });
    const late = await api.post(`/pages/${c.page.id}/inbox/${v.thread.id}/messages`, { text: 'Sam here' }, { token: c.owner.token });
    expect([late.status, late.body.code]).toEqual([409, 'INBOX.NOT_IN_CONTROL']);
    expect((await send(c.primary.pageToken, v, 'The bot again')).status).toBe(200);
    // Nothing for the secondary, which never had it, nor a second notice for the primary.
    expect(entries(c.secondary.bot).filter(([k, m]) => k === 'messaging' && m.sender?.id === v.psid)).toEqual([]);
    expect(notices(c.primary.bot, v, 'pass_thread_control')).toHaveLength(1);
  });

  it('expires each thread once with two workers sweeping, and spares one a message holds', async () => {
    const c = await setup();
    const many: Conversation[] = [];
    for (let i = 0; i < 6; i++) many.push(await conversation(c));
    for (const v of many.slice(1)) await passTo(c, v, c.secondary.id);
    // Control given before owner_since existed: the last message alone decides.
    await t.db.query('UPDATE threads SET owner_app_id = $2, owner_since = NULL WHERE id = $1', [many[0].thread.id, c.secondary.id]);

    // A message in flight on an aged thread, as the append holds it: the row locked until commit, last_timestamp
    // moved. (Locked first with KEY SHARE, which lets the ageing commit but not a sweep lock the row, so no sweep can
    // expire it in between.)
    const held = many[5];
    const message = new Client({ connectionString: t.db.url });
    await message.connect();
    try {
      await message.query('BEGIN');
      await message.query('SELECT 1 FROM threads WHERE id = $1 FOR KEY SHARE', [held.thread.id]);
      await age(held, { message: true, control: true });
      await message.query('UPDATE threads SET last_timestamp = $2 WHERE id = $1', [held.thread.id, Date.now()]);
      for (const v of many.slice(0, 5)) await age(v, { message: true, control: true });
      await waitFor('the others idle', async () => (await Promise.all(many.slice(0, 5).map(idle))).every(Boolean));
      expect(await idle(held)).toBe(false);
      await message.query('COMMIT');
    } finally {
      await message.end();
    }
    // A sweep after the commit: the held thread is active again and keeps its owner.
    const after = await conversation(c);
    await passTo(c, after, c.secondary.id);
    await age(after, { message: true, control: true });
    await waitFor('a later thread idle', () => idle(after));
    expect(await owner(c, held)).toBe(c.secondary.id);

    // One notice of each kind per expired thread in the outbox, whichever process expired it.
    const rows = await t.db.query(
      `SELECT messaging->'sender'->>'id' AS psid, count(*) FILTER (WHERE messaging ? 'pass_thread_control')::int AS passes,
              count(*) FILTER (WHERE messaging ? 'take_thread_control')::int AS takes
         FROM webhook_events
        WHERE page_id = $1 AND (messaging->'pass_thread_control'->>'metadata' = 'idle_timeout'
                                OR messaging->'take_thread_control'->>'metadata' = 'idle_timeout')
        GROUP BY 1`,
      [c.page.id],
    );
    const expected = [...many.slice(0, 5), after].map((v) => ({ psid: v.psid, passes: 1, takes: 1 }));
    expect(rows.sort((a: any, b: any) => a.psid.localeCompare(b.psid))).toEqual(expected.sort((a, b) => a.psid.localeCompare(b.psid)));
  });
});
