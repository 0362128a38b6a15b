import { Client } from 'pg';
import { BotReceiver, receivedEntries, waitForEntry } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson, PersonSocket } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { botConversation, clientId, pageSays, personSays, settled } from '../factories/messaging.factory';
import { signupPerson } from '../factories/registry.factory';

const UNAVAILABLE = { message: "(#551) This person isn't available right now.", type: 'OAuthException', code: 551, error_subcode: 1545041 };

// A person blocks messages from a Page, as on Messenger, over real Postgres and Redis with a bot that verifies
// signatures: every way the Page reaches them is refused and writes nothing (Graph's 551 / 1545041 on the Send API,
// 409 THREAD.BLOCKED on the Page Inbox), the person can read but not write, and unblocking opens it all again.
describe('blocking messages from a Page', () => {
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

  async function setup() {
    const c = await botConversation(api, t.db, {
      pageName: 'Acme Deals',
      appName: 'Deals bot',
      extraFields: ['messaging_optins', 'message_reactions'],
      firstText: 'Hello?',
    });
    bots.push(c.bot);
    return c;
  }
  type Ctx = Awaited<ReturnType<typeof setup>>;

  const block = (c: Ctx, token = c.person.token) => api.post(`/threads/${c.thread.id}/block`, undefined, { token });
  const unblock = (c: Ctx, token = c.person.token) => api.delete(`/threads/${c.thread.id}/block`, { token });
  const graph = (c: Ctx, body: object, path = 'me/messages', headers?: Record<string, string>) =>
    api.post(`/v25.0/${path}?access_token=${encodeURIComponent(c.app.pageToken)}`, { recipient: { id: c.psid }, ...body }, { headers });
  const counts = async (c: Ctx) => {
    const [row] = await t.db.query<{ messages: number; events: number; outbox: number }>(
      `SELECT (SELECT count(*)::int FROM messages WHERE thread_id = $1) AS messages,
              (SELECT count(*)::int FROM user_events WHERE user_id = $2) AS events,
              (SELECT count(*)::int FROM webhook_deliveries WHERE page_id = $3) AS outbox`,
      [c.thread.id, c.person.id, c.page.id],
    );
    return row;
  };
  const socket = async (token: string) => {
    const s = await connectPerson(t.url, token);
    sockets.push(s);
    return s;
  };

  it('blocks and unblocks idempotently, only on the thread of its own person; the views and other devices carry it', async () => {
    const c = await setup();
    const other = await socket(c.person.token);
    const res = await block(c);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: c.thread.id, blocked: true, blocked_at: expect.any(Number) });
    const at = res.body.blocked_at;
    await other.waitFor('the block event', (e) => e.type === 'block' && e.thread_id === c.thread.id && e.blocked === true && e.blocked_at === at);

    // Again: the same answer, the same time, nothing new written.
    const before = await counts(c);
    const again = await block(c);
    expect([again.status, again.body.blocked, again.body.blocked_at]).toEqual([200, true, at]);
    expect(await counts(c)).toEqual(before);

    const one = await api.get(`/threads/${c.thread.id}`, { token: c.person.token });
    expect(one.body).toMatchObject({ blocked: true, blocked_at: at });
    const list = await api.get('/threads', { token: c.person.token });
    expect(list.body.data.find((x: any) => x.id === c.thread.id)).toMatchObject({ blocked: true, blocked_at: at, page: { name: 'Acme Deals' } });

    // Someone else's thread (the Page's owner included) is "not found", as every person route answers.
    for (const token of [c.owner.token, (await signupPerson(api, 'Stranger')).token]) {
      for (const res of [await block(c, token), await unblock(c, token)]) expect([res.status, res.body.code]).toEqual([404, 'THREAD.NOT_FOUND']);
    }
    for (const bad of ['nope', '1'.repeat(21), '0']) {
      const res = await api.post(`/threads/${bad}/block`, undefined, { token: c.person.token });
      expect([res.status, res.body.code]).toEqual([404, 'THREAD.NOT_FOUND']);
    }
    // Unauthenticated: 401.
    expect((await api.post(`/threads/${c.thread.id}/block`)).status).toBe(401);

    const un = await unblock(c);
    expect([un.status, un.body.blocked, un.body.blocked_at]).toEqual([200, false, null]);
    await other.waitFor('the unblock event', (e) => e.type === 'block' && e.thread_id === c.thread.id && e.blocked === false);
    const unAgain = await unblock(c);
    expect([unAgain.status, unAgain.body.blocked]).toEqual([200, false]);
    expect((await api.get(`/threads/${c.thread.id}`, { token: c.person.token })).body).toMatchObject({ blocked: false, blocked_at: null });
  });

  it("refuses every Send API call with Graph's 551 / 1545041 and writes nothing; unblocking lets the bot write again", async () => {
    const c = await setup();
    // A send first: this process now knows the thread, so the next one takes the lookup-free path (the message
    // statement itself refuses a blocked thread).
    const first = await pageSays(api, c.app.pageToken, c.psid, { text: 'Welcome!' });
    expect(first.status).toBe(200);
    const pageMid = first.body.message_id;
    expect((await block(c)).status).toBe(200);
    const before = await counts(c);

    const refused: [string, object, string?][] = [
      ['text (cached thread)', { messaging_type: 'RESPONSE', message: { text: 'Buy now' } }],
      ['text again (full path)', { messaging_type: 'RESPONSE', message: { text: 'Buy now' } }],
      ['text by page id', { messaging_type: 'RESPONSE', message: { text: 'Buy now' } }, `${c.page.id}/messages`],
      ['a tagged text', { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'Agent here' } }],
      [
        'a button template',
        {
          messaging_type: 'RESPONSE',
          message: { attachment: { type: 'template', payload: { template_type: 'button', text: 'Pick', buttons: [{ type: 'postback', title: 'Yes', payload: 'Y' }] } } },
        },
      ],
      // Refused before the URL is fetched: nothing to fetch, nothing stored in media.
      ['an image by URL', { messaging_type: 'RESPONSE', message: { attachment: { type: 'image', payload: { url: 'https://unreachable.example.test/x.png' } } } }],
      ['typing_on', { sender_action: 'typing_on' }],
      ['typing_off', { sender_action: 'typing_off' }],
      ['mark_seen', { sender_action: 'mark_seen' }],
      ['react', { sender_action: 'react', payload: { message_id: c.hello.mid, reaction: '😍' } }],
      ['unreact', { sender_action: 'unreact', payload: { message_id: c.hello.mid } }],
    ];
    for (const [what, body, path] of refused) {
      const res = await graph(c, body, path);
      expect([what, res.status, res.body.error]).toEqual([what, 400, { ...UNAVAILABLE, fbtrace_id: expect.any(String) }]);
    }
    // With an Idempotency-Key: refused alike, and no answer is kept for it.
    const keyed = await graph(c, { messaging_type: 'RESPONSE', message: { text: 'once' } }, 'me/messages', { 'idempotency-key': 'blocked-1' });
    expect([keyed.status, keyed.body.error?.code]).toEqual([400, 551]);
    expect(await t.db.query(`SELECT 1 FROM send_idempotency_keys WHERE key = 'blocked-1'`)).toHaveLength(0);

    // Graph's batch: each operation through the same route, each refused.
    const op = (body: object) => ({
      method: 'POST',
      relative_url: 'me/messages',
      body: new URLSearchParams(Object.fromEntries(Object.entries({ recipient: { id: c.psid }, ...body }).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]))).toString(),
    });
    const batch = await api.post('/', undefined, {
      form: {
        access_token: c.app.pageToken,
        batch: JSON.stringify([op({ messaging_type: 'RESPONSE', message: { text: 'batched' } }), op({ sender_action: 'typing_on' })]),
      },
    });
    expect(batch.status).toBe(200);
    expect(batch.body.map((a: any) => [a.code, JSON.parse(a.body).error?.code, JSON.parse(a.body).error?.error_subcode])).toEqual([
      [400, 551, 1545041],
      [400, 551, 1545041],
    ]);

    // Nothing stored: no message, no event for the person, no webhook; the Page's reaction and "Seen" untouched.
    expect(await counts(c)).toEqual(before);
    const [row] = await t.db.query<{ page_read_seq: string; reactions: object }>(
      `SELECT t.page_read_seq, m.reactions FROM threads t JOIN messages m ON m.thread_id = t.id AND m.mid = $2 WHERE t.id = $1`,
      [c.thread.id, c.hello.mid],
    );
    expect([row.page_read_seq, row.reactions]).toEqual(['0', {}]);
    // The person still reads their history.
    const history = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(history.body.data.map((m: any) => m.mid)).toEqual([c.hello.mid, pageMid]);

    // Unblocked: the same calls go through.
    expect((await unblock(c)).status).toBe(200);
    const sock = await socket(c.person.token);
    const again = await pageSays(api, c.app.pageToken, c.psid, { text: 'Welcome back' });
    expect(again.status).toBe(200);
    await sock.waitFor('the message', (e) => e.type === 'message' && e.message.mid === again.body.message_id);
    expect((await graph(c, { sender_action: 'typing_on' })).status).toBe(200);
    await sock.waitFor('typing', (e) => e.type === 'typing' && e.on === true);
    expect((await graph(c, { sender_action: 'mark_seen' })).status).toBe(200);
    expect((await graph(c, { sender_action: 'react', payload: { message_id: c.hello.mid, reaction: '😍' } })).status).toBe(200);
  });

  it("refuses the person's own writes with 409 THREAD.BLOCKED but lets them read; the Page learns nothing of them meanwhile", async () => {
    const c = await setup();
    const welcome = await pageSays(api, c.app.pageToken, c.psid, { text: 'Welcome!' });
    expect((await block(c)).status).toBe(200);
    const before = await counts(c);
    const tries = [
      () => api.post(`/threads/${c.thread.id}/messages`, { text: 'hi', client_message_id: clientId() }, { token: c.person.token }),
      () => api.put(`/threads/${c.thread.id}/messages/${welcome.body.message_id}/reaction`, { reaction: '😍' }, { token: c.person.token }),
      () => api.patch(`/threads/${c.thread.id}/messages/${c.hello.mid}`, { text: 'Hello!' }, { token: c.person.token }),
    ];
    for (const attempt of tries) {
      const res = await attempt();
      expect([res.status, res.body.code, res.body.message]).toEqual([409, 'THREAD.BLOCKED', 'You blocked messages from this Page: unblock to write']);
    }
    // Reading is theirs: the read mark moves for their own devices, the Page's bots are not told.
    const read = await api.post(`/threads/${c.thread.id}/read`, { watermark: Date.now() }, { token: c.person.token });
    expect(read.status).toBe(200);
    const after = await counts(c);
    expect([after.messages, after.outbox]).toEqual([before.messages, before.outbox]);

    expect((await unblock(c)).status).toBe(200);
    const sent = await personSays(api, c.person, c.thread.id, 'I am back');
    await waitForEntry('the message after unblocking', c.bot, (_, m) => m.message?.mid === sent.mid);
    await settled(api, c);
    // Meta sends no webhook for a block or an unblock, and the read while blocked was not told either.
    const items = receivedEntries(c.bot).map(([, m]) => m);
    expect(items.filter((m) => m.read)).toEqual([]);
    expect(items.every((m) => m.message || m.delivery)).toBe(true);
  });

  it("refuses a persistent menu set for a person who blocked the Page (551); reading and removing it stay open", async () => {
    const c = await setup();
    const menu = { psid: c.psid, persistent_menu: [{ locale: 'default', call_to_actions: [{ type: 'postback', title: 'Claim your prize', payload: 'PRIZE' }] }] };
    const profile = await api.post(`/v25.0/me/messenger_profile?access_token=${encodeURIComponent(c.app.pageToken)}`, { get_started: { payload: 'START' } });
    expect(profile.status).toBe(200);
    expect((await block(c)).status).toBe(200);
    const set = await api.post(`/v25.0/me/custom_user_settings?access_token=${encodeURIComponent(c.app.pageToken)}`, menu);
    expect([set.status, set.body.error]).toEqual([400, expect.objectContaining(UNAVAILABLE)]);
    const [{ n }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM custom_user_settings WHERE page_id = $1`, [c.page.id]);
    expect(n).toBe(0);
    const read = await api.get(`/v25.0/me/custom_user_settings?psid=${c.psid}&access_token=${encodeURIComponent(c.app.pageToken)}`);
    expect([read.status, read.body]).toEqual([200, { data: [] }]);

    expect((await unblock(c)).status).toBe(200);
    const again = await api.post(`/v25.0/me/custom_user_settings?access_token=${encodeURIComponent(c.app.pageToken)}`, menu);
    expect([again.status, again.body]).toEqual([200, { result: 'success' }]);
  });

  // A person's write checks the block before its transaction; a block from another device can commit after that
  // check and before the write takes the thread's lock. Held here: the test holds the row lock, the writes pass their
  // first check and queue behind it, then the block commits and the lock is let go.
  it('refuses a write that was already waiting on the thread when a block committed', async () => {
    const c = await setup();
    const welcome = await pageSays(api, c.app.pageToken, c.psid, { text: 'Welcome!' });
    const holder = new Client({ connectionString: t.db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM threads WHERE id = $1 FOR UPDATE', [c.thread.id]);
      const before = await counts(c);
      const writes = [
        api.put(`/threads/${c.thread.id}/messages/${welcome.body.message_id}/reaction`, { reaction: '😍' }, { token: c.person.token }),
        api.patch(`/threads/${c.thread.id}/messages/${c.hello.mid}`, { text: 'Hello!' }, { token: c.person.token }),
      ];
      await waitFor('both writes waiting on the row lock', async () => {
        const [{ n }] = await t.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return n >= 2;
      });
      await holder.query('UPDATE threads SET blocked_at = $2 WHERE id = $1', [c.thread.id, Date.now()]);
      await holder.query('COMMIT');
      for (const res of await Promise.all(writes)) expect([res.status, res.body.code]).toEqual([409, 'THREAD.BLOCKED']);
      const after = await counts(c);
      expect([after.messages, after.events, after.outbox]).toEqual([before.messages, before.events, before.outbox]);
    } finally {
      await holder.end();
    }
  });

  it("refuses the Page Inbox's replies and typing with 409 THREAD.BLOCKED and shows the conversation as blocked", async () => {
    const c = await setup();
    const inbox = `/pages/${c.page.id}/inbox`;
    expect((await block(c)).status).toBe(200);
    const listed = await api.get(inbox, { token: c.owner.token });
    expect(listed.body.data.find((x: any) => x.id === c.thread.id)).toMatchObject({ blocked: true });
    const before = await counts(c);
    const reply = await api.post(`${inbox}/${c.thread.id}/messages`, { text: 'Can we help?', client_message_id: clientId() }, { token: c.owner.token });
    expect([reply.status, reply.body.code]).toEqual([409, 'THREAD.BLOCKED']);
    const typing = await api.post(`${inbox}/${c.thread.id}/typing`, { on: true }, { token: c.owner.token });
    expect([typing.status, typing.body.code]).toEqual([409, 'THREAD.BLOCKED']);
    const seen = await api.post(`${inbox}/${c.thread.id}/read`, undefined, { token: c.owner.token });
    expect([seen.status, seen.body.code]).toEqual([409, 'THREAD.BLOCKED']);
    expect(await counts(c)).toEqual(before);
    // Still readable by the Page's people.
    expect((await api.get(`${inbox}/${c.thread.id}/messages`, { token: c.owner.token })).body.data).toHaveLength(1);

    expect((await unblock(c)).status).toBe(200);
    expect((await api.get(inbox, { token: c.owner.token })).body.data.find((x: any) => x.id === c.thread.id)).toMatchObject({ blocked: false });
    const again = await api.post(`${inbox}/${c.thread.id}/messages`, { text: 'Can we help?', client_message_id: clientId() }, { token: c.owner.token });
    expect(again.status).toBe(201);
  });

  it('refuses a marketing message sent with a token, without spending it; a ref link tells the Page nothing', async () => {
    const c = await setup();
    const request = {
      attachment: { type: 'template', payload: { template_type: 'notification_messages', title: 'Weekly deals', payload: 'DEALS', notification_messages_cta_text: 'GET_UPDATES' } },
    };
    const asked = await pageSays(api, c.app.pageToken, c.psid, request);
    expect(asked.status).toBe(200);
    expect((await api.post(`/threads/${c.thread.id}/messages/${asked.body.message_id}/optin`, undefined, { token: c.person.token })).status).toBe(200);
    const [, item] = await waitForEntry('the opt-in', c.bot, (_, m) => m.optin?.notification_messages_token);
    const token = item.optin.notification_messages_token;

    expect((await block(c)).status).toBe(200);
    const before = await counts(c);
    const send = () =>
      api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(c.app.pageToken)}`, {
        recipient: { notification_messages_token: token },
        message: { text: 'This week: 20% off' },
      });
    const refused = await send();
    expect([refused.status, refused.body.error]).toEqual([400, { ...UNAVAILABLE, fbtrace_id: expect.any(String) }]);
    const [topic] = await t.db.query<{ last_sent_at: string | null }>(`SELECT last_sent_at FROM notification_message_tokens WHERE thread_id = $1`, [c.thread.id]);
    expect(topic.last_sent_at).toBeNull();

    // Opening the thread again from a ref link: the thread opens, the Page's bots get no referral.
    const opened = await api.post('/threads', { page_id: c.page.id, ref: 'summer-sale' }, { token: c.person.token });
    expect([opened.status, opened.body.blocked]).toEqual([200, true]);
    expect(await counts(c)).toEqual(before);

    expect((await unblock(c)).status).toBe(200);
    const sent = await send();
    expect(sent.status).toBe(200);
  });

  it("refuses a hosted script's ctx.send: the script is told 551", async () => {
    const c = await setup();
    const SCRIPT = `
      export default {
        async onMessage(event, ctx) {
          try {
            await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { text: 'echo: ' + event.message.text } });
            console.log('sent');
          } catch (err) {
            console.log('refused ' + err.message);
          }
        },
      };`;
    const up = await api.post(`/pages/${c.page.id}/scripts`, { source: SCRIPT }, { token: c.owner.token });
    expect(up.status).toBe(201);
    expect((await api.post(`/pages/${c.page.id}/scripts/${up.body.version}/activate`, {}, { token: c.owner.token })).status).toBe(200);
    const logs = async () => (await api.get(`/pages/${c.page.id}/scripts/${up.body.version}/logs`, { token: c.owner.token })).body.data as { message: string }[];

    // Held (as a tripped breaker holds it) while the person writes and then blocks; resumed, it runs on a blocked
    // thread.
    await t.db.query(`UPDATE page_scripts SET paused_at = now(), paused_reason = 'held by the test' WHERE page_id = $1`, [c.page.id]);
    await personSays(api, c.person, c.thread.id, 'are you there?');
    expect((await block(c)).status).toBe(200);
    const before = await counts(c);
    expect((await api.post(`/pages/${c.page.id}/scripts/resume`, {}, { token: c.owner.token })).body).toMatchObject({ resumed: true });
    const line = await waitFor('the script to run', async () => (await logs()).find((l) => /^(sent|refused)/.test(l.message)));
    expect(line.message).toMatch(/^refused .*\(#551\) This person isn't available right now\./);
    const after = await counts(c);
    expect(after.messages).toBe(before.messages);
  });
});
