import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { BotReceiver, receivedEntries, waitForEntry } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson, PersonSocket } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { botConversation, openThread, pageSays, personSays, settled } from '../factories/messaging.factory';
import { createPage, signupPerson } from '../factories/registry.factory';

// Meta's opt-in request (marketing messages guide), every property set; frequency is deprecated but still taken.
const REQUEST = {
  template_type: 'notification_messages',
  title: 'Weekly deals',
  image_url: 'https://www.myshop.com/deals.png',
  payload: 'DEALS-2026',
  notification_messages_cta_text: 'GET_UPDATES',
  notification_messages_timezone: 'Europe/Paris',
};
const optinRequest = (over: object = {}) => ({ attachment: { type: 'template', payload: { ...REQUEST, ...over } } });
const HOUR = 3_600_000;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// Messenger's marketing messages end to end, over real Postgres and Redis: the bot asks within the window, the
// person opts in, the bot gets messaging_optins with a token (signed), sends with it outside the window at Meta's
// pace; the person stops and resumes; every refusal writes nothing.
describe('marketing messages (notification_messages)', () => {
  let t: TestPlatform;
  let api: HttpClient;
  const bots: BotReceiver[] = [];
  const sockets: PersonSocket[] = [];

  beforeAll(async () => {
    t = await startTestPlatform({ env: { WEBHOOK_RECONCILE_INTERVAL_MS: '500', SCRIPT_POLL_INTERVAL_MS: '100' } });
    api = httpClient(t.url);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await Promise.all(bots.map((b) => b.close()));
    await t?.close();
  });

  // A Page with a bot subscribed to the core fields and messaging_optins, and a person who has written to it (the window is open).
  async function setup() {
    const c = await botConversation(api, t.db, { extraFields: ['messaging_optins'], appName: 'Deals bot', firstText: 'Any deals?' });
    bots.push(c.bot);
    return c;
  }
  type Ctx = Awaited<ReturnType<typeof setup>>;
  const optIn = (threadId: string, mid: string, token?: string) => api.post(`/threads/${threadId}/messages/${mid}/optin`, undefined, { token });
  const stop = (threadId: string, mid: string, token?: string) => api.delete(`/threads/${threadId}/messages/${mid}/optin`, { token });
  const optins = (bot: BotReceiver) => receivedEntries(bot).filter(([, m]) => m.optin);
  const sendWithToken = (pageToken: string, token: unknown, message: unknown = { text: 'This week: 20% off' }, extra: object = {}) =>
    api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(pageToken)}`, { recipient: { notification_messages_token: token }, message, ...extra });
  const socket = async (token: string) => {
    const s = await connectPerson(t.url, token);
    sockets.push(s);
    return s;
  };
  // The person's last message was `hours` ago: the standard window (24 h) and the human agent one (7 d) follow it.
  const age = (c: Ctx, hours: number) => t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1', [c.thread.id, Date.now() - hours * HOUR]);
  async function optedIn(c: Ctx, over: object = {}) {
    const sent = await pageSays(api, c.app.pageToken, c.psid, optinRequest(over));
    expect(sent.status).toBe(200);
    const mid = sent.body.message_id as string;
    const res = await optIn(c.thread.id, mid, c.person.token);
    expect(res.status).toBe(200);
    const [, item] = await waitForEntry('the opt-in', c.bot, (_, m) => m.optin?.payload === ((over as { payload?: string }).payload ?? REQUEST.payload) && m.optin.user_token_status);
    return { mid, token: item.optin.notification_messages_token as string, item, state: res.body };
  }
  const messagesOf = async (c: Ctx) => (await t.db.query('SELECT count(*)::int AS n FROM messages WHERE thread_id = $1', [c.thread.id]))[0].n;

  it("refuses an opt-in request the Send API can't take with Graph's code 100, and one outside the standard window", async () => {
    const c = await setup();
    const P = 'message[attachment][payload]';
    const refused: [object, string][] = [
      [optinRequest({ title: 'x'.repeat(66) }), `param ${P}[title] must be at most 65 characters`],
      [optinRequest({ title: undefined }), `param ${P}[title] is required`],
      [optinRequest({ payload: undefined }), `param ${P}[payload] is required`],
      [optinRequest({ notification_messages_cta_text: 'SUBSCRIBE' }), `param ${P}[notification_messages_cta_text] must be one of [ALLOW, GET, GET_UPDATES, OPT_IN, SIGN_UP]`],
      [optinRequest({ notification_messages_timezone: 'Mars/Olympus' }), `param ${P}[notification_messages_timezone] must be a time zone name such as UTC or Europe/Paris`],
      [optinRequest({ notification_messages_frequency: 'HOURLY' }), `param ${P}[notification_messages_frequency] must be one of [DAILY, WEEKLY, MONTHLY]`],
      [optinRequest({ image_url: 'deals.png' }), `param ${P}[image_url] must be a valid URL`],
    ];
    const before = await messagesOf(c);
    for (const [message, text] of refused) {
      const res = await pageSays(api, c.app.pageToken, c.psid, message);
      expect([res.status, res.body.error?.code, res.body.error?.message]).toEqual([400, 100, `(#100) ${text}`]);
    }
    // Only within the standard window, even with a tag that lets other messages through for 7 days.
    await age(c, 30);
    const tagged = await api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(c.app.pageToken)}`, {
      recipient: { id: c.psid },
      messaging_type: 'MESSAGE_TAG',
      tag: 'HUMAN_AGENT',
      message: optinRequest(),
    });
    expect([tagged.status, tagged.body.error?.code, tagged.body.error?.error_subcode]).toEqual([400, 10, 2018278]);
    expect(await messagesOf(c)).toBe(before);
  });

  it('opts in: the bot gets signed messaging_optins with a token, stored only hashed and sealed; the person sees the state', async () => {
    const c = await setup();
    const other = await socket(c.person.token);
    const sent = await pageSays(api, c.app.pageToken, c.psid, optinRequest());
    const mid = sent.body.message_id as string;
    // The person's copy carries the request whole (there is nothing to hide in it).
    const history = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(history.body.data.find((m: any) => m.mid === mid).attachment).toEqual({ type: 'template', payload: REQUEST });

    const res = await optIn(c.thread.id, mid, c.person.token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      mid,
      title: REQUEST.title,
      payload: REQUEST.payload,
      status: 'active',
      opted_in_at: expect.any(Number),
      expires_at: expect.any(Number),
    });
    // No frequency: the longest documented lifetime, 12 months.
    const year = new Date(res.body.opted_in_at);
    year.setUTCMonth(year.getUTCMonth() + 12);
    expect(res.body.expires_at).toBe(year.getTime());

    const [key, item] = await waitForEntry('the opt-in webhook', c.bot, (_, m) => m.optin);
    expect(key).toBe('messaging');
    expect(item).toEqual({
      sender: { id: c.psid },
      recipient: { id: c.page.id },
      timestamp: expect.any(Number),
      optin: {
        type: 'notification_messages',
        payload: REQUEST.payload,
        notification_messages_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        notification_messages_timezone: 'Europe/Paris',
        token_expiry_timestamp: res.body.expires_at,
        user_token_status: 'NOT_REFRESHED',
        title: REQUEST.title,
      },
    });
    const token = item.optin.notification_messages_token as string;
    // The person's other device is told.
    const told = await other.waitFor('the opt-in on another device', (e) => e.type === 'optin');
    expect(told).toMatchObject({ mid, title: REQUEST.title, status: 'active', expires_at: res.body.expires_at, thread_id: c.thread.id });

    // Stored as its SHA-256 (and a sealed copy): no row of any table holds the token itself, the outbox included.
    const [row] = await t.db.query('SELECT token_hash, token_sealed FROM notification_message_tokens WHERE thread_id = $1', [c.thread.id]);
    expect(row.token_hash).toBe(sha256(token));
    expect(row.token_sealed).toMatch(/^sealed:v1\./);
    const tables: { table_name: string }[] = await t.db.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    expect(tables.length).toBeGreaterThan(20);
    for (const { table_name } of tables) {
      const [hit] = await t.db.query(`SELECT 1 FROM "${table_name}" x WHERE x::text LIKE $1 LIMIT 1`, [`%${token}%`]);
      expect({ table_name, plaintext: Boolean(hit) }).toEqual({ table_name, plaintext: false });
    }
    // The delivery log shows the app what it was sent.
    const [delivery] = await t.db.query(
      `SELECT d.id FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE e.page_id = $1 AND e.field = 'messaging_optins'`,
      [c.page.id],
    );
    const logged = await api.get(`/apps/${c.app.id}/deliveries/${delivery.id}`, { token: c.owner.token });
    expect(logged.body.payload.entry[0].messaging[0].optin.notification_messages_token).toBe(token);
    // The topics the person's chat app draws from.
    const topics = await api.get(`/threads/${c.thread.id}/notification-messages`, { token: c.person.token });
    expect(topics.body).toEqual({ data: [res.body] });
  });

  it('sends with the token outside the 24-hour window, at most once per 48 hours, and answers as the Send API does', async () => {
    const c = await setup();
    const device = await socket(c.person.token);
    const { token } = await optedIn(c);
    await age(c, 72);
    // By PSID the window is closed...
    const byPsid = await pageSays(api, c.app.pageToken, c.psid, { text: 'hello?' });
    expect([byPsid.status, byPsid.body.error?.code, byPsid.body.error?.error_subcode]).toEqual([400, 10, 2018278]);
    // ...by token it is not: no messaging_type, as Meta's example sends it.
    const sent = await sendWithToken(c.app.pageToken, token);
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ recipient_id: c.psid, message_id: expect.stringMatching(/^m_/) });
    const live = await device.waitFor('the marketing message', (e) => e.type === 'message' && e.message.mid === sent.body.message_id);
    expect(live.message.text).toBe('This week: 20% off');
    await waitForEntry('the echo', c.bot, (_, m) => m.message?.is_echo && m.message.mid === sent.body.message_id);

    // Again within the cooldown: Meta's 4 / 2018354, nothing written; an UPDATE messaging_type changes nothing.
    const before = await messagesOf(c);
    const tooSoon = await sendWithToken(c.app.pageToken, token, { text: 'And more!' }, { messaging_type: 'UPDATE' });
    expect([tooSoon.status, tooSoon.body.error?.code, tooSoon.body.error?.error_subcode]).toEqual([400, 4, 2018354]);
    expect(await messagesOf(c)).toBe(before);
    // 47 hours later, still too soon; 49 hours later, it goes.
    await t.db.query('UPDATE notification_message_tokens SET last_sent_at = $2 WHERE token_hash = $1', [sha256(token), Date.now() - 47 * HOUR]);
    expect((await sendWithToken(c.app.pageToken, token)).body.error?.error_subcode).toBe(2018354);
    await t.db.query('UPDATE notification_message_tokens SET last_sent_at = $2 WHERE token_hash = $1', [sha256(token), Date.now() - 49 * HOUR]);
    expect((await sendWithToken(c.app.pageToken, token)).status).toBe(200);

    // Two sends at once after the cooldown: one goes, one is refused.
    await t.db.query('UPDATE notification_message_tokens SET last_sent_at = $2 WHERE token_hash = $1', [sha256(token), Date.now() - 49 * HOUR]);
    const racing = await Promise.all([0, 1, 2].map(() => sendWithToken(c.app.pageToken, token)));
    expect(racing.map((r) => r.status).sort()).toEqual([200, 400, 400]);
    // A sender action to a token is refused by the schema.
    const typing = await api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(c.app.pageToken)}`, {
      recipient: { notification_messages_token: token },
      sender_action: 'typing_on',
    });
    expect([typing.status, typing.body.error?.code]).toEqual([400, 100]);
  });

  // A retry of a token send (a lost response, a redelivered job) that races the first must get the first's answer,
  // not the cooldown the first has just started.
  it('answers token sends at once with the same Idempotency-Key as the first, one message stored', async () => {
    const c = await setup();
    const { token } = await optedIn(c);
    await age(c, 72);
    const before = await messagesOf(c);
    const send = (key: string) =>
      api.post(
        `/v25.0/me/messages?access_token=${encodeURIComponent(c.app.pageToken)}`,
        { recipient: { notification_messages_token: token }, message: { text: 'Flash sale' } },
        { headers: { 'idempotency-key': key } },
      );
    // Both pass the token's check, then wait on the thread's lock (held here): the first to take it spends the token.
    const holder = new Client({ connectionString: t.db.url });
    await holder.connect();
    let both: Awaited<ReturnType<typeof send>>[];
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM threads WHERE id = $1 FOR UPDATE', [c.thread.id]);
      const racing = [send('flash-1'), send('flash-1')];
      await waitFor('both sends waiting on the thread lock', async () => {
        const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, [t.db.name]);
        return n >= 2 || undefined;
      });
      await holder.query('COMMIT');
      both = await Promise.all(racing);
    } finally {
      await holder.end();
    }
    expect(both.map((r) => [r.status, r.body])).toEqual([
      [200, { recipient_id: c.psid, message_id: expect.stringMatching(/^m_/) }],
      [200, both[0].body],
    ]);
    expect(both.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(1);
    expect(await messagesOf(c)).toBe(before + 1);

    // Unsynchronised, after the cooldown: a duplicate may also find the token spent before it writes anything.
    await t.db.query('UPDATE notification_message_tokens SET last_sent_at = $2 WHERE token_hash = $1', [sha256(token), Date.now() - 49 * HOUR]);
    const burst = await Promise.all([0, 1, 2, 3, 4, 5].map(() => send('flash-2')));
    expect(burst.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(new Set(burst.map((r) => r.body.message_id)).size).toBe(1);
    expect(await messagesOf(c)).toBe(before + 2);
  });

  it("refuses unknown, another Page's, expired and stopped tokens, writing nothing; the person stops and resumes", async () => {
    const c = await setup();
    const d = await setup();
    const { mid, token } = await optedIn(c);
    await age(c, 72);
    const before = await messagesOf(c);
    const refusal = async (pageToken: string, tok: unknown) => {
      const res = await sendWithToken(pageToken, tok);
      return [res.status, res.body.error?.code, res.body.error?.error_subcode ?? null, res.body.error?.message];
    };
    const noUser = [400, 100, 2018001, '(#100) No matching user found'];
    expect(await refusal(c.app.pageToken, randomBytes(32).toString('base64url'))).toEqual(noUser);
    expect(await refusal(c.app.pageToken, 'not-a-token')).toEqual(noUser);
    expect(await refusal(d.app.pageToken, token)).toEqual(noUser);
    expect((await sendWithToken(c.app.pageToken, '')).body.error?.message).toBe('(#100) param recipient[notification_messages_token] must not be empty');
    expect((await sendWithToken(c.app.pageToken, token, undefined, { recipient: { id: c.psid, notification_messages_token: token } })).body.error?.code).toBe(100);

    // The person stops: the bot gets STOP_NOTIFICATIONS with the same token; sends are refused.
    const device = await socket(c.person.token);
    const stopped = await stop(c.thread.id, mid, c.person.token);
    expect([stopped.status, stopped.body.status]).toEqual([200, 'stopped']);
    const [, stopItem] = await waitForEntry('the stop', c.bot, (_, m) => m.optin?.notification_messages_status === 'STOP_NOTIFICATIONS');
    expect(stopItem.optin).toEqual({
      type: 'notification_messages',
      payload: REQUEST.payload,
      notification_messages_token: token,
      notification_messages_timezone: 'Europe/Paris',
      token_expiry_timestamp: expect.any(Number),
      notification_messages_status: 'STOP_NOTIFICATIONS',
      title: REQUEST.title,
    });
    await device.waitFor('the stop on a device', (e) => e.type === 'optin' && e.status === 'stopped');
    const [status, code, , message] = await refusal(c.app.pageToken, token);
    expect([status, code]).toEqual([400, 100]);
    expect(message).toContain('stopped');
    // Stopping twice tells no one.
    expect((await stop(c.thread.id, mid, c.person.token)).body.status).toBe('stopped');
    expect(await messagesOf(c)).toBe(before);

    // Tapping the request again resumes: the same token works again.
    const resumed = await optIn(c.thread.id, mid, c.person.token);
    expect([resumed.status, resumed.body.status]).toEqual([200, 'active']);
    const [, resumeItem] = await waitForEntry('the resume', c.bot, (_, m) => m.optin?.notification_messages_status === 'RESUME_NOTIFICATIONS');
    expect(resumeItem.optin.notification_messages_token).toBe(token);
    expect((await sendWithToken(c.app.pageToken, token)).status).toBe(200);

    // Expired: refused, nothing written; tapping the request again mints a new token (REFRESHED), the old one is gone.
    await t.db.query('UPDATE notification_message_tokens SET expires_at = $2, last_sent_at = NULL WHERE token_hash = $1', [sha256(token), Date.now() - 1000]);
    const afterSend = await messagesOf(c);
    const [eStatus, eCode, , eMessage] = await refusal(c.app.pageToken, token);
    expect([eStatus, eCode, eMessage]).toEqual([400, 100, '(#100) This notification_messages_token has expired: the person must opt in again']);
    expect((await stop(c.thread.id, mid, c.person.token)).body).toMatchObject({ code: 'NOTIFICATION_MESSAGES.NOT_OPTED_IN' });
    expect(await messagesOf(c)).toBe(afterSend);
    const renewed = await optIn(c.thread.id, mid, c.person.token);
    expect(renewed.body.status).toBe('active');
    const [, refreshed] = await waitForEntry('the refreshed opt-in', c.bot, (_, m) => m.optin?.user_token_status === 'REFRESHED');
    expect(refreshed.optin.notification_messages_token).not.toBe(token);
    expect(await refusal(c.app.pageToken, token)).toEqual(noUser);
    expect((await sendWithToken(c.app.pageToken, refreshed.optin.notification_messages_token)).status).toBe(200);
    await settled(api, d);
    expect(optins(d.bot)).toEqual([]);
  });

  it('mints one token and one webhook however many taps, at once or later; another topic gets its own', async () => {
    const c = await setup();
    const mid = (await pageSays(api, c.app.pageToken, c.psid, optinRequest())).body.message_id as string;
    const again = (await pageSays(api, c.app.pageToken, c.psid, optinRequest({ payload: 'SECOND-ASK' }))).body.message_id as string;
    const taps = await Promise.all([mid, mid, mid, again, again].map((m) => optIn(c.thread.id, m, c.person.token)));
    expect(taps.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(taps.map((r) => r.body.opted_in_at)).size).toBe(1);
    // Later taps answer the same state.
    const later = await optIn(c.thread.id, mid, c.person.token);
    expect(later.body).toEqual(taps[0].body);
    await settled(api, c);
    expect(optins(c.bot)).toHaveLength(1);
    const [{ tokens, events }] = await t.db.query(
      `SELECT (SELECT count(*)::int FROM notification_message_tokens WHERE thread_id = $1) AS tokens,
              (SELECT count(*)::int FROM user_events WHERE user_id = $2 AND type = 'optin') AS events`,
      [c.thread.id, c.person.id],
    );
    expect({ tokens, events }).toEqual({ tokens: 1, events: 1 });
    // Another title is another topic, with a token of its own.
    const other = (await pageSays(api, c.app.pageToken, c.psid, optinRequest({ title: 'Restock alerts', payload: 'RESTOCK', notification_messages_frequency: 'WEEKLY' }))).body.message_id;
    const res = await optIn(c.thread.id, other, c.person.token);
    expect(res.body).toMatchObject({ title: 'Restock alerts', status: 'active', frequency: 'WEEKLY' });
    const [, weekly] = await waitForEntry('the weekly opt-in', c.bot, (_, m) => m.optin?.payload === 'RESTOCK');
    expect(weekly.optin.notification_messages_frequency).toBe('WEEKLY');
    await waitFor('two opt-ins', () => optins(c.bot).length === 2);

    // The Page's token list: both live tokens, its own people only.
    const list = await api.get(`/v25.0/me/notification_message_tokens?access_token=${encodeURIComponent(c.app.pageToken)}`);
    expect(list.status).toBe(200);
    expect(list.body.data.map((r: any) => [r.topic_title, r.recipient_id])).toEqual([
      [REQUEST.title, c.psid],
      ['Restock alerts', c.psid],
    ]);
    expect(list.body.data[1].notification_messages_token).toBe(weekly.optin.notification_messages_token);
    const first = await api.get(`/v25.0/me/notification_message_tokens?limit=1&access_token=${encodeURIComponent(c.app.pageToken)}`);
    expect(first.body.data).toHaveLength(1);
    const next = await api.get(`/v25.0/me/notification_message_tokens?limit=1&after=${first.body.paging.cursors.after}&access_token=${encodeURIComponent(c.app.pageToken)}`);
    expect(next.body.data.map((r: any) => r.topic_title)).toEqual(['Restock alerts']);
    expect(next.body.paging.cursors).toEqual({});
    const bad = await api.get(`/v25.0/me/notification_message_tokens?limit=0&access_token=${encodeURIComponent(c.app.pageToken)}`);
    expect([bad.status, bad.body.error?.code]).toEqual([400, 100]);
  });

  it("lists the Page's tokens past a token sealed under another SECRETS_KEY (a rotated key): that row without its token", async () => {
    const c = await setup();
    const first = await optedIn(c);
    const second = await optedIn(c, { title: 'Restock alerts', payload: 'RESTOCK' });
    const list = (query = '') => api.get(`/v25.0/me/notification_message_tokens?access_token=${encodeURIComponent(c.app.pageToken)}${query}`);
    // The first token as sealed under another key (a rotated SECRETS_KEY): its tag no longer checks out.
    const [row] = await t.db.query('SELECT id, token_sealed FROM notification_message_tokens WHERE token_hash = $1', [sha256(first.token)]);
    const [v, iv, , ct] = row.token_sealed.split('.');
    await t.db.query('UPDATE notification_message_tokens SET token_sealed = $2 WHERE id = $1', [row.id, [v, iv, randomBytes(16).toString('base64url'), ct].join('.')]);
    const res = await list();
    expect(res.status).toBe(200);
    // The row stays (the person is still subscribed, and the token still sends); only the token it can't give goes.
    expect(res.body.data.map((r: any) => [r.topic_title, r.recipient_id, r.notification_messages_token])).toEqual([
      [REQUEST.title, c.psid, undefined],
      ['Restock alerts', c.psid, second.token],
    ]);
    expect(res.body.data[0]).not.toHaveProperty('notification_messages_token');
    // The bot that kept it from the webhook still sends with it.
    await age(c, 72);
    expect((await sendWithToken(c.app.pageToken, first.token)).status).toBe(200);
  });

  it("refuses a token list cursor it never returned with Graph's 400, even one shaped like its own", async () => {
    const c = await setup();
    await optedIn(c);
    const list = (query = '') => api.get(`/v25.0/me/notification_message_tokens?access_token=${encodeURIComponent(c.app.pageToken)}${query}`);
    // Shaped to pass a loose check (36 characters of hex and dashes): Graph's 400, never Postgres's cast error.
    const cursor = (s: string) => Buffer.from(s).toString('base64url');
    for (const after of [cursor(`1|${'-'.repeat(36)}`), cursor(`1|${'a'.repeat(36)}`), cursor(`1|${'a'.repeat(8)}-${'a'.repeat(4)}-${'a'.repeat(4)}-${'a'.repeat(4)}-${'a'.repeat(11)}g`), cursor('x|y'), 'garbage']) {
      const bad = await list(`&after=${after}`);
      expect({ after, status: bad.status, code: bad.body.error?.code, message: bad.body.error?.message }).toEqual({
        after,
        status: 400,
        code: 100,
        message: '(#100) param after must be a cursor this endpoint returned',
      });
    }
    // A well-formed cursor past every row: an empty page.
    const past = await list(`&after=${cursor(`${Date.now() + HOUR}|ffffffff-ffff-7fff-bfff-ffffffffffff`)}`);
    expect([past.status, past.body]).toEqual([200, { data: [], paging: { cursors: {} } }]);
  });

  // A process whose every statement runs on a generic plan (as a prepared one does after five runs): the cursor
  // must still be where the token list's index scan starts, not a filter on every row of the Page before it.
  it('pages the token list from the cursor under a generic plan: it reads the page, not the Page', async () => {
    const c = await setup();
    const N = 20_000;
    await t.db.query(
      `WITH th AS (INSERT INTO threads (id, page_id, user_id, psid)
                   SELECT '9' || lpad(i::text, 17, '0'), $1, '8' || lpad(i::text, 17, '0'), '7' || lpad(i::text, 17, '0')
                     FROM generate_series(1, $2::int) i)
       INSERT INTO notification_message_tokens (id, thread_id, page_id, mid, title, payload, timezone, token_hash, token_sealed, status, created_at, expires_at)
       SELECT gen_random_uuid(), '9' || lpad(i::text, 17, '0'), $1, 'm_' || i, 'Weekly deals', 'P' || i, 'UTC', md5($1 || i) || md5(i::text), 'sealed:x',
              'active', $3::bigint + i, $4::bigint
         FROM generate_series(1, $2::int) i`,
      [c.page.id, N, Date.now() - HOUR, Date.now() + 1000 * HOUR],
    );
    await t.db.query('ANALYZE notification_message_tokens');
    const url = new URL(t.db.url);
    url.searchParams.set('options', '-c plan_cache_mode=force_generic_plan');
    const sibling = await t.spawnSibling('api', { DATABASE_URL: url.toString() });
    const generic = httpClient(sibling.url);
    const model: { id: string; at: string; payload: string }[] = await t.db.query(
      `SELECT id, created_at::text AS at, payload FROM notification_message_tokens WHERE page_id = $1 ORDER BY created_at, id`,
      [c.page.id],
    );
    const from = model[N - 150];
    const after = Buffer.from(`${from.at}|${from.id}`).toString('base64url');
    const reads = async () =>
      Number((await t.db.query(`SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'notification_message_tokens_page_idx'`))[0].idx_tup_read);
    const before = await reads();
    const res = await generic.get(`/v25.0/me/notification_message_tokens?limit=100&after=${after}&access_token=${encodeURIComponent(c.app.pageToken)}`);
    expect(res.status).toBe(200);
    expect(res.body.data.map((r: any) => r.payload)).toEqual(model.slice(N - 149, N - 49).map((r) => r.payload));
    // A backend reports its counters as it exits (otherwise up to 10 s after going idle).
    await sibling.stop();
    const read = await waitFor('the scan in the statistics', async () => {
      const n = (await reads()) - before;
      return n >= 100 ? n : undefined;
    });
    expect(read).toBeLessThan(1_000);
  });

  it("refuses another person's thread, what is not the Page's opt-in request, and bad ids, writing nothing", async () => {
    const c = await setup();
    const d = await setup();
    const mine = (await pageSays(api, c.app.pageToken, c.psid, optinRequest())).body.message_id as string;
    const text = (await pageSays(api, c.app.pageToken, c.psid, { text: 'Hello' })).body.message_id as string;
    const own = await personSays(api, c.person, c.thread.id, 'Thanks');
    const theirs = (await pageSays(api, d.app.pageToken, d.psid, optinRequest())).body.message_id as string;
    const written = async () =>
      (
        await t.db.query(
          `SELECT (SELECT count(*)::int FROM notification_message_tokens) AS tokens,
                  (SELECT count(*)::int FROM webhook_events WHERE field = 'messaging_optins') AS webhooks,
                  (SELECT count(*)::int FROM user_events WHERE type = 'optin') AS events`,
        )
      )[0];
    const before = await written();
    const cases: [string, Promise<any>, number, string?][] = [
      ["another person's thread", optIn(d.thread.id, theirs, c.person.token), 404, 'THREAD.NOT_FOUND'],
      ['a message of another thread', optIn(c.thread.id, theirs, c.person.token), 404, 'THREAD.MESSAGE_NOT_FOUND'],
      ['an unknown mid', optIn(c.thread.id, 'm_nothinghere', c.person.token), 404, 'THREAD.MESSAGE_NOT_FOUND'],
      ["the Page's text", optIn(c.thread.id, text, c.person.token), 400, 'THREAD.NOT_AN_OPTIN_REQUEST'],
      ["the person's own message", optIn(c.thread.id, own.mid, c.person.token), 400, 'THREAD.NOT_AN_OPTIN_REQUEST'],
      ['a mid that is no mid', optIn(c.thread.id, 'nope', c.person.token), 400, 'REQUEST.VALIDATION_FAILED'],
      ['a thread id that is no id', optIn('abc', mine, c.person.token), 404, 'THREAD.NOT_FOUND'],
      ['stop before opting in', stop(c.thread.id, mine, c.person.token), 409, 'NOTIFICATION_MESSAGES.NOT_OPTED_IN'],
      ['stop on a text', stop(c.thread.id, text, c.person.token), 400, 'THREAD.NOT_AN_OPTIN_REQUEST'],
      ["another person's topics", api.get(`/threads/${d.thread.id}/notification-messages`, { token: c.person.token }), 404, 'THREAD.NOT_FOUND'],
      ['no token', optIn(c.thread.id, mine), 401],
      ["the Page's token", optIn(c.thread.id, mine, c.app.pageToken), 403],
    ];
    for (const [what, call, status, code] of cases) {
      const res = await call;
      expect({ what, status: res.status }).toEqual({ what, status });
      expect(res.body).toMatchObject({ statusCode: status, code: code ?? expect.any(String), message: expect.any(String) });
    }
    expect(await written()).toEqual(before);
    expect((await optIn(c.thread.id, mine, c.person.token)).status).toBe(200);
    expect(await written()).toEqual({ tokens: before.tokens + 1, webhooks: before.webhooks + 1, events: before.events + 1 });
  });

  it("runs a hosted script's onOptin, which sends with the token it got", async () => {
    const owner = await signupPerson(api, 'Script Owner');
    const page = await createPage(api, owner, 'Scripted Shop');
    const source = `export default {
      async onMessage(event, ctx) {
        await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { attachment: { type: 'template',
          payload: { template_type: 'notification_messages', title: 'Flash sales', payload: 'FLASH' } } } });
      },
      async onOptin(event, ctx) {
        const o = event.optin;
        await ctx.send({ recipient: { notification_messages_token: o.notification_messages_token }, message: { text: 'Subscribed to ' + o.title + ' (' + o.payload + ')' } });
      },
    };`;
    const uploaded = await api.post(`/pages/${page.id}/scripts`, { source, subscribed_fields: ['messages', 'messaging_optins'] }, { token: owner.token });
    expect(uploaded.status).toBe(201);
    expect((await api.post(`/pages/${page.id}/scripts/${uploaded.body.version}/activate`, {}, { token: owner.token })).status).toBe(200);
    const person = await signupPerson(api, 'Customer');
    const thread = await openThread(api, person, page.id);
    const device = await socket(person.token);
    await personSays(api, person, thread.id, 'hi');
    const request = await device.waitFor('the opt-in request', (e) => e.type === 'message' && e.message.attachment?.payload?.template_type === 'notification_messages', 20_000);
    expect((await optIn(thread.id, request.message.mid, person.token)).status).toBe(200);
    await device.waitFor('the script’s marketing message', (e) => e.type === 'message' && e.message.text === 'Subscribed to Flash sales (FLASH)', 20_000);
  });
});
