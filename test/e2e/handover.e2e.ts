import { Client } from 'pg';
import { BotReceiver, receivedEntries, waitForEntry } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { clientId, offerGetStarted, openThread, personSays } from '../factories/messaging.factory';
import { createPage, signupPerson, subscribedApp } from '../factories/registry.factory';

const FIELDS = ['messages', 'messaging_postbacks', 'message_echoes', 'standby', 'messaging_handovers'];
const INBOX = '263902037430900';

// Messenger's handover protocol over real Postgres and Redis: a primary bot and a secondary (a human agents'
// tool, say) on one Page; each thread's events go to the app controlling it and on standby to the other, only
// the controller sends, and control moves by pass, take, request and release, each with its notice.
describe('handover protocol', () => {
  let t: TestPlatform;
  let api: HttpClient;
  const receivers: BotReceiver[] = [];

  beforeAll(async () => {
    t = await startTestPlatform({ env: { WEBHOOK_RECONCILE_INTERVAL_MS: '500', WEBHOOK_RETRY_SCHEDULE: '0,1,1,1,1' } });
    api = httpClient(t.url);
  });
  afterAll(async () => {
    for (const r of receivers) await r.close();
    await t?.close();
  });

  // Each received entry as [key, item]: key is 'messaging' or 'standby'.
  const entries = receivedEntries;

  async function setup() {
    const owner = await signupPerson(api, 'Business');
    const page = await createPage(api, owner);
    const apps: { id: string; secret: string; token: string; pageToken: string; bot: BotReceiver }[] = [];
    for (const name of ['Bot', 'Agents']) {
      const app = await subscribedApp(api, owner, page.id, name, FIELDS);
      receivers.push(app.bot);
      apps.push(app);
    }
    const person = await signupPerson(api, 'Customer');
    const thread = await openThread(api, person, page.id);
    const [row] = await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1 RETURNING psid', [thread.id, Date.now()]);
    const role = (appId: string, r: string | null) => api.put(`/pages/${page.id}/apps/${appId}/handover-role`, { role: r }, { token: owner.token });
    return { owner, page, person, thread, psid: row.psid as string, primary: apps[0], secondary: apps[1], role };
  }
  type Setup = Awaited<ReturnType<typeof setup>>;
  const graph = (token: string, path: string, body: unknown) => api.post(`/v25.0/me/${path}?access_token=${encodeURIComponent(token)}`, body);
  const send = (c: Setup, token: string, text: string) => graph(token, 'messages', { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text } });
  const control = (c: Setup, token: string, action: string, extra: Record<string, unknown> = {}) =>
    graph(token, `${action}_thread_control`, { recipient: { id: c.psid }, ...extra });
  const owner = async (c: Setup) =>
    (await api.get(`/v25.0/me/thread_owner?recipient=${c.psid}&access_token=${encodeURIComponent(c.primary.pageToken)}`)).body.data[0]?.thread_owner.app_id;

  it('routes each thread to its controller and standby to the rest; control moves by pass, take, request and release', async () => {
    const c = await setup();
    // No roles yet: both apps get every message, as before.
    const first = await personSays(api, c.person, c.thread.id, 'before roles');
    for (const app of [c.primary, c.secondary]) await waitForEntry('the message to both', app.bot, (k, m) => k === 'messaging' && m.message?.mid === first.mid);

    expect((await c.role(c.primary.id, 'primary')).body).toMatchObject({ app_id: c.primary.id, handover_role: 'primary' });
    expect((await c.role(c.secondary.id, 'secondary')).status).toBe(200);
    expect(await owner(c)).toBe(c.primary.id);

    const idle = await personSays(api, c.person, c.thread.id, 'who answers?');
    await waitForEntry('the message to the primary', c.primary.bot, (k, m) => k === 'messaging' && m.message?.mid === idle.mid);
    const [, onStandby] = await waitForEntry('the standby copy', c.secondary.bot, (k, m) => m.message?.mid === idle.mid);
    expect(onStandby).toMatchObject({ sender: { id: c.psid }, recipient: { id: c.page.id }, message: { text: 'who answers?' } });
    expect(entries(c.secondary.bot).filter(([, m]) => m.message?.mid === idle.mid).map(([k]) => k)).toEqual(['standby']);

    // Only the controller sends; its echo goes on standby to the other.
    const refused = await send(c, c.secondary.pageToken, 'I am the agent');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 10, error_subcode: 2018300 });
    const typing = await graph(c.secondary.pageToken, 'messages', { recipient: { id: c.psid }, sender_action: 'typing_on' });
    expect(typing.body.error).toMatchObject({ code: 10, error_subcode: 2018300 });
    const reply = await send(c, c.primary.pageToken, 'The bot answers');
    expect(reply.status).toBe(200);
    await waitForEntry('the echo on standby', c.secondary.bot, (k, m) => k === 'standby' && m.message?.is_echo && m.message.mid === reply.body.message_id);

    // The primary hands the thread to the agents' app.
    expect((await control(c, c.primary.pageToken, 'pass', { target_app_id: c.secondary.id, metadata: 'wants a human' })).body).toEqual({ success: true });
    const [, passed] = await waitForEntry('pass_thread_control', c.secondary.bot, (k, m) => k === 'messaging' && m.pass_thread_control);
    expect(passed).toEqual({
      sender: { id: c.psid },
      recipient: { id: c.page.id },
      timestamp: expect.any(Number),
      pass_thread_control: { previous_owner_app_id: c.primary.id, new_owner_app_id: c.secondary.id, metadata: 'wants a human' },
    });
    expect(await owner(c)).toBe(c.secondary.id);
    const toAgent = await personSays(api, c.person, c.thread.id, 'hello human');
    await waitForEntry('the message to the agents', c.secondary.bot, (k, m) => k === 'messaging' && m.message?.mid === toAgent.mid);
    await waitForEntry('standby to the bot', c.primary.bot, (k, m) => k === 'standby' && m.message?.mid === toAgent.mid);
    expect((await send(c, c.primary.pageToken, 'bot butts in')).body.error).toMatchObject({ code: 10, error_subcode: 2018300 });
    expect((await send(c, c.secondary.pageToken, 'Hi, Ada from support')).status).toBe(200);

    // The primary asks, then takes it back; the agents' app hears of both.
    expect((await control(c, c.primary.pageToken, 'request', { metadata: 'may I?' })).status).toBe(200);
    const [, requested] = await waitForEntry('request_thread_control', c.secondary.bot, (_, m) => m.request_thread_control);
    expect(requested.request_thread_control).toEqual({ requested_owner_app_id: Number(c.primary.id), metadata: 'may I?' });
    expect(await owner(c)).toBe(c.secondary.id);
    expect((await control(c, c.primary.pageToken, 'take')).status).toBe(200);
    const [, taken] = await waitForEntry('take_thread_control', c.secondary.bot, (_, m) => m.take_thread_control);
    expect(taken.take_thread_control).toEqual({ previous_owner_app_id: c.secondary.id, new_owner_app_id: c.primary.id });
    expect(await owner(c)).toBe(c.primary.id);

    // Passed again and released: idle, the primary has it and hears so.
    await control(c, c.primary.pageToken, 'pass', { target_app_id: c.secondary.id });
    expect((await control(c, c.secondary.pageToken, 'release')).status).toBe(200);
    await waitForEntry('the release notice', c.primary.bot, (_, m) => m.pass_thread_control?.previous_owner_app_id === c.secondary.id);
    expect(await owner(c)).toBe(c.primary.id);

    // The Page Inbox: people have it, every app gets standby and none sends, until the primary takes it.
    await control(c, c.primary.pageToken, 'pass', { target_app_id: INBOX });
    expect(await owner(c)).toBe(INBOX);
    const toPeople = await personSays(api, c.person, c.thread.id, 'for the people');
    for (const app of [c.primary, c.secondary]) await waitForEntry('standby for all', app.bot, (k, m) => k === 'standby' && m.message?.mid === toPeople.mid);
    expect((await send(c, c.primary.pageToken, 'no')).body.error.code).toBe(10);
    expect((await control(c, c.primary.pageToken, 'take')).status).toBe(200);
    expect(await owner(c)).toBe(c.primary.id);
  });

  // A pass commits while a person's message and a bot's reaction wait on the thread's lock: both see the new
  // controller (the message goes to it, not on its standby; the old controller's reaction is refused).
  it('routes and refuses by the controller as of the thread lock, not as of the statement start', async () => {
    const c = await setup();
    await c.role(c.primary.id, 'primary');
    await c.role(c.secondary.id, 'secondary');
    const earlier = await personSays(api, c.person, c.thread.id, 'react to me');
    const pass = new Client({ connectionString: t.db.url });
    await pass.connect();
    try {
      await pass.query('BEGIN');
      await pass.query('UPDATE threads SET owner_app_id = $2 WHERE id = $1', [c.thread.id, c.secondary.id]);
      const sending = personSays(api, c.person, c.thread.id, 'sent mid-pass');
      const reacting = graph(c.primary.pageToken, 'messages', { recipient: { id: c.psid }, sender_action: 'react', payload: { message_id: earlier.mid, reaction: '👍' } });
      await waitFor('both waiting on the thread lock', async () => {
        const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, [t.db.name]);
        return n >= 2 || undefined;
      });
      await pass.query('COMMIT');
      const sent = await sending;
      await waitForEntry('the message to the new controller', c.secondary.bot, (k, m) => k === 'messaging' && m.message?.mid === sent.mid);
      await waitForEntry('standby to the old one', c.primary.bot, (k, m) => k === 'standby' && m.message?.mid === sent.mid);
      const reacted = await reacting;
      expect(reacted.body.error).toMatchObject({ code: 10, error_subcode: 2018300 });
      const [row] = await t.db.query('SELECT reactions FROM messages WHERE mid = $1', [earlier.mid]);
      expect(row.reactions).toEqual({});
    } finally {
      await pass.end();
    }
  });

  it("tells each app whose role the page's admins changed, as Messenger's app_roles", async () => {
    const c = await setup();
    const rolesOf = (bot: BotReceiver) => entries(bot).filter(([, m]) => m.app_roles);
    const notice = (appId: string, role: string) => ['messaging', { recipient: { id: c.page.id }, timestamp: expect.any(Number), app_roles: { [appId]: [role] } }];
    expect((await c.role(c.primary.id, 'primary')).status).toBe(200);
    expect((await c.role(c.secondary.id, 'secondary')).status).toBe(200);
    await waitFor('the primary told', () => rolesOf(c.primary.bot).length === 1 || undefined);
    await waitFor('the secondary told', () => rolesOf(c.secondary.bot).length === 1 || undefined);
    expect(rolesOf(c.primary.bot)).toEqual([notice(c.primary.id, 'primary_receiver')]);
    expect(rolesOf(c.secondary.bot)).toEqual([notice(c.secondary.id, 'secondary_receiver')]);

    // A new primary: the old one is made secondary, and both hear of it. The same role again changes nothing.
    await c.role(c.secondary.id, 'primary');
    await c.role(c.secondary.id, 'primary');
    await waitFor('the old primary told', () => rolesOf(c.primary.bot).length === 2 || undefined);
    await waitFor('the new primary told', () => rolesOf(c.secondary.bot).length === 2 || undefined);
    const first = await personSays(api, c.person, c.thread.id, 'after the roles');
    await waitForEntry('a later event', c.secondary.bot, (_, m) => m.message?.mid === first.mid);
    expect(rolesOf(c.primary.bot)[1]).toEqual(notice(c.primary.id, 'secondary_receiver'));
    expect(rolesOf(c.secondary.bot)).toEqual([notice(c.secondary.id, 'secondary_receiver'), notice(c.secondary.id, 'primary_receiver')]);
  });

  it("lets the page's admins change a connected app's fields in place, and no one else", async () => {
    const c = await setup();
    const put = (token: string, fields: unknown, appId = c.primary.id) => api.put(`/pages/${c.page.id}/apps/${appId}/fields`, { subscribed_fields: fields }, { token });
    const done = await put(c.owner.token, ['messages', 'standby', 'messages']);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ app_id: c.primary.id, subscribed_fields: ['messages', 'standby'] });
    // The app's page token still works: nothing was reconnected.
    expect((await api.get(`/v25.0/me?access_token=${encodeURIComponent(c.primary.pageToken)}`)).status).toBe(200);
    expect((await put(c.person.token, ['messages'])).status).toBe(403);
    expect((await put(c.owner.token, ['messages', 'no_such_field'])).status).toBe(400);
    expect((await put(c.owner.token, 'messages')).status).toBe(400);
    expect((await put(c.owner.token, ['messages'], '999')).status).toBe(404);
    const [row] = await t.db.query('SELECT subscribed_fields FROM page_apps WHERE page_id = $1 AND app_id = $2', [c.page.id, c.primary.id]);
    expect(row.subscribed_fields).toEqual(['messages', 'standby']);
  });

  it('strips postback payloads on standby, and counts only the controller for Delivered', async () => {
    const c = await setup();
    await c.role(c.primary.id, 'primary');
    await c.role(c.secondary.id, 'secondary');
    const offered = await offerGetStarted(api, c.primary.pageToken);
    // The controller's bot is down: the standby copy alone must not show the person "Delivered".
    c.primary.bot.respond = () => 503;
    const tap = await api.post(`/threads/${c.thread.id}/postbacks`, { ...offered, client_message_id: clientId() }, { token: c.person.token });
    expect(tap.status).toBe(201);
    const [, full] = await waitForEntry('the postback', c.primary.bot, (k, m) => k === 'messaging' && m.postback?.mid === tap.body.mid);
    expect(full.postback).toEqual({ mid: tap.body.mid, title: 'Get Started', payload: 'GET_STARTED' });
    const [, stripped] = await waitForEntry('the standby postback', c.secondary.bot, (k, m) => k === 'standby' && m.postback?.mid === tap.body.mid);
    expect(stripped.postback).toEqual({ mid: tap.body.mid, title: 'Get Started' });
    await waitFor('the failed attempt', () => entries(c.primary.bot).some(([, m]) => m.postback?.mid === tap.body.mid) || undefined);
    const seen = await api.get(`/threads/${c.thread.id}`, { token: c.person.token });
    expect(seen.body.delivered_to_page_seq).toBe(0);
    // Once the controller has it, it is Delivered.
    c.primary.bot.respond = () => 200;
    await waitFor('Delivered', async () => {
      const view = await api.get(`/threads/${c.thread.id}`, { token: c.person.token });
      return view.body.delivered_to_page_seq === tap.body.seq || undefined;
    });
  });

  it('refuses calls from apps without a role, on pages without a primary, and to targets without a role', async () => {
    const c = await setup();
    const noPrimary = await control(c, c.primary.pageToken, 'take');
    expect(noPrimary.status).toBe(400);
    expect(noPrimary.body.error.message).toContain('not set up');
    await c.role(c.primary.id, 'primary');
    const roleless = await control(c, c.secondary.pageToken, 'request');
    expect([roleless.status, roleless.body.error.code]).toEqual([403, 10]);
    expect((await control(c, c.primary.pageToken, 'pass', { target_app_id: c.secondary.id })).body.error.message).toContain('target_app_id');
    await c.role(c.secondary.id, 'secondary');
    expect((await control(c, c.secondary.pageToken, 'take')).body.error.code).toBe(10);
    expect((await control(c, c.secondary.pageToken, 'pass', { target_app_id: c.primary.id })).body.error).toMatchObject({ code: 10, error_subcode: 2018300 });
    expect((await control(c, c.primary.pageToken, 'pass')).body.error.message).toContain('target_app_id is required');
    expect((await graph(c.primary.pageToken, 'pass_thread_control', { recipient: { id: '1234567890123456' }, target_app_id: c.secondary.id })).body.error.error_subcode).toBe(2018001);
    expect((await control(c, c.primary.pageToken, 'pass', { target_app_id: c.secondary.id, metadata: 'x'.repeat(1001) })).body.error.code).toBe(100);
    for (const bad of [{ recipient: 'nope' }, {}, { recipient: { id: c.psid }, target_app_id: 'abc' }, { recipient: { id: c.psid }, extra: 1 }]) {
      const res = await graph(c.primary.pageToken, 'pass_thread_control', bad);
      expect([res.status, res.body.error.code]).toEqual([400, 100]);
    }
    expect(await owner(c)).toBe(c.primary.id);

    // One primary: naming another demotes the first. A role is the page admins' to give.
    expect((await c.role(c.secondary.id, 'primary')).body.handover_role).toBe('primary');
    const listed = await api.get(`/pages/${c.page.id}/apps`, { token: c.owner.token });
    expect(Object.fromEntries(listed.body.data.map((a: any) => [a.app_id, a.handover_role]))).toEqual({ [c.primary.id]: 'secondary', [c.secondary.id]: 'primary' });
    const stranger = await signupPerson(api, 'Stranger');
    expect((await api.put(`/pages/${c.page.id}/apps/${c.primary.id}/handover-role`, { role: 'primary' }, { token: stranger.token })).status).toBe(403);
    expect((await c.role(c.primary.id, 'boss')).status).toBe(400);
    expect((await c.role('999', 'secondary')).status).toBe(404);

    // The controller disconnected: the thread is idle again, the primary's.
    await control(c, c.secondary.pageToken, 'pass', { target_app_id: c.primary.id });
    expect(await owner(c)).toBe(c.primary.id);
    await c.role(c.primary.id, 'primary');
    await control(c, c.primary.pageToken, 'pass', { target_app_id: c.secondary.id });
    expect(await owner(c)).toBe(c.secondary.id);
    expect((await api.delete(`/pages/${c.page.id}/apps/${c.secondary.id}`, { token: c.owner.token })).status).toBe(204);
    expect(await owner(c)).toBe(c.primary.id);
    // Forgotten, not just ignored: reconnected with a role, the app would not silently have its old threads back.
    expect((await t.db.query('SELECT owner_app_id FROM threads WHERE id = $1', [c.thread.id]))[0].owner_app_id).toBeNull();
    const after = await personSays(api, c.person, c.thread.id, 'anyone?');
    await waitForEntry('the message to the primary', c.primary.bot, (k, m) => k === 'messaging' && m.message?.mid === after.mid);
  });
});
