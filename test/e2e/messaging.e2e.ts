import { verifyMessenger } from '../../libs/webhook-signature';
import { BotReceiver, ReceivedRequest, startBotReceiver } from '../support/bot-receiver';
import { httpClient, HttpClient, HttpResult } from '../support/http-client';
import { assertGapFree, connectPerson } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { clientId, conversation, offerGetStarted, openThread, pageSays, personSays } from '../factories/messaging.factory';
import { connectApp, createApp, createPage, signupPerson } from '../factories/registry.factory';

// The core loop over real Postgres and Redis: person → signed webhook → bot → Send API → person's socket.
describe('messaging: the core loop', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let bot: BotReceiver;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    t = await startTestPlatform({ env: { TYPING_TIMEOUT_MS: '300', WEBHOOK_RECONCILE_INTERVAL_MS: '500' } });
    api = httpClient(t.url);
    bot = await startBotReceiver('verify-me');
  });
  afterAll(async () => {
    await bot?.close();
    await t?.close();
  });

  // Every webhook the bot got for a page, signature checked, as Messenger messaging items in arrival order.
  function itemsFor(pageId: string, field?: (m: any) => boolean): any[] {
    const out: any[] = [];
    for (const r of bot.received as ReceivedRequest[]) {
      const body = JSON.parse(r.body.toString('utf8'));
      // Events due together arrive batched: every entry of the POST, in order.
      const entries = (body.entry ?? []).filter((e: any) => e.id === pageId);
      if (!entries.length) continue;
      const appSecret = secrets.get(pageId)!;
      expect(verifyMessenger(r.body, r.headers['x-hub-signature-256'] as string, appSecret)).toBe(true);
      expect(r.signatureValid).toBe(true);
      expect(body.object).toBe('page');
      for (const entry of entries) for (const m of entry.messaging) if (!field || field(m)) out.push(m);
    }
    return out;
  }

  async function setup() {
    const c = await conversation(api, bot);
    secrets.set(c.page.id, c.app.secret);
    bot.secrets.push(c.app.secret);
    // The Send API's 24 h window opens at the person's last message; open it without writing one (seq and cursors stay put).
    const [row] = await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1 RETURNING psid', [c.thread.id, Date.now()]);
    return { ...c, psid: row.psid as string };
  }

  it('delivers a message to the bot, the reply to the person, and receipts both ways', async () => {
    const c = await setup();
    const sock = await connectPerson(t.url, c.person.token);
    expect(sock.hello).toMatchObject({ type: 'hello', cursor: 0 });
    expect(sock.ws.extensions).toContain('permessage-deflate');

    const sent = await api.post(
      `/threads/${c.thread.id}/messages`,
      { text: 'Hi äöå 👋', client_message_id: 'c-1' },
      { token: c.person.token },
    );
    expect(sent.status).toBe(201);
    expect(sent.body).toEqual({ mid: expect.stringMatching(/^m_[A-Za-z0-9_-]+$/), seq: 1, timestamp: expect.any(Number) });

    const [inbound] = await waitFor('the messages webhook', () => {
      const got = itemsFor(c.page.id, (m) => m.message && !m.message.is_echo);
      return got.length ? got : undefined;
    });
    expect(inbound).toEqual({
      sender: { id: c.psid },
      recipient: { id: c.page.id },
      timestamp: sent.body.timestamp,
      message: { mid: sent.body.mid, text: 'Hi äöå 👋' },
    });
    expect(c.psid).toMatch(/^\d{16}$/);
    expect(JSON.stringify(bot.received.map((r) => r.body.toString()))).not.toContain(c.person.id);

    const echoOfOwn = await sock.waitFor('own echo', (e) => e.type === 'echo');
    expect(echoOfOwn).toMatchObject({ cursor: 1, thread_id: c.thread.id, seq: 1, message: { mid: sent.body.mid, sender: 'person', client_message_id: 'c-1' } });

    // The bot acknowledged the webhook: the person's message shows "Delivered".
    const deliveredToPage = await sock.waitFor('delivered to the page', (e) => e.type === 'delivery' && e.by === 'page');
    expect(deliveredToPage).toMatchObject({ cursor: 2, thread_id: c.thread.id, seq: 1, watermark: sent.body.timestamp });

    const typing = await api.post(`/v25.0/me/messages?access_token=${c.pageToken}`, { recipient: { id: c.psid }, sender_action: 'typing_on' });
    expect(typing.status).toBe(200);
    expect(typing.body).toEqual({ recipient_id: c.psid });
    const on = await sock.waitFor('typing on', (e) => e.type === 'typing' && e.on);
    expect(on).toMatchObject({ thread_id: c.thread.id, expires_at: expect.any(Number) });
    expect(on.cursor).toBeUndefined();
    await sock.waitFor('typing timeout', (e) => e.type === 'typing' && !e.on && e.reason === 'timeout');

    const reply = await pageSays(api, c.pageToken, c.psid, { text: 'Yes, in blue!', metadata: 'order-42' });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ recipient_id: c.psid, message_id: expect.stringMatching(/^m_/) });
    const pushed = await sock.waitFor('the reply', (e) => e.type === 'message');
    expect(pushed).toMatchObject({ cursor: 3, seq: 2, message: { mid: reply.body.message_id, sender: 'page', text: 'Yes, in blue!' } });
    expect(pushed.message.metadata).toBeUndefined();

    const [echo] = await waitFor('the echo webhook', () => {
      const got = itemsFor(c.page.id, (m) => m.message?.is_echo);
      return got.length ? got : undefined;
    });
    expect(echo).toEqual({
      sender: { id: c.page.id },
      recipient: { id: c.psid },
      timestamp: expect.any(Number),
      message: { is_echo: true, app_id: Number(c.app.id), metadata: 'order-42', mid: reply.body.message_id, text: 'Yes, in blue!' },
    });

    const delivered = await api.post(`/threads/${c.thread.id}/delivered`, { mids: [reply.body.message_id] }, { token: c.person.token });
    expect(delivered.status).toBe(200);
    const read = await api.post(`/threads/${c.thread.id}/read`, { watermark: pushed.message.timestamp }, { token: c.person.token });
    expect(read.body).toEqual({ watermark: pushed.message.timestamp });
    const [delivery] = await waitFor('delivery webhook', () => {
      const got = itemsFor(c.page.id, (m) => m.delivery);
      return got.length ? got : undefined;
    });
    expect(delivery.delivery).toEqual({ mids: [reply.body.message_id], watermark: pushed.message.timestamp });
    const [readItem] = await waitFor('read webhook', () => {
      const got = itemsFor(c.page.id, (m) => m.read);
      return got.length ? got : undefined;
    });
    expect(readItem).toEqual({ sender: { id: c.psid }, recipient: { id: c.page.id }, timestamp: expect.any(Number), read: { watermark: pushed.message.timestamp } });

    const seen = await api.post(`/v25.0/${c.page.id}/messages`, { recipient: { id: c.psid }, sender_action: 'mark_seen' }, { token: c.pageToken });
    expect(seen.body).toEqual({ recipient_id: c.psid });
    const seenEvent = await sock.waitFor('seen', (e) => e.type === 'read' && e.by === 'page');
    expect(seenEvent).toMatchObject({ thread_id: c.thread.id, seq: 2, watermark: expect.any(Number) });

    const pb = await api.post(`/threads/${c.thread.id}/postbacks`, await offerGetStarted(api, c.pageToken), { token: c.person.token });
    expect(pb.status).toBe(201);
    const [postback] = await waitFor('postback webhook', () => {
      const got = itemsFor(c.page.id, (m) => m.postback);
      return got.length ? got : undefined;
    });
    expect(postback.postback).toEqual({ mid: pb.body.mid, title: 'Get Started', payload: 'GET_STARTED' });

    const threads = await api.get('/threads', { token: c.person.token });
    expect(threads.body.data).toEqual([
      expect.objectContaining({ id: c.thread.id, page: { id: c.page.id, name: 'Acme' }, unread_count: 0, last_seq: 3, seen_by_page_seq: 2 }),
    ]);
    expect(threads.body.data[0].last_message).toMatchObject({ kind: 'postback', postback: { title: 'Get Started', payload: 'GET_STARTED' } });
    assertGapFree(sock.events, 0);
    await sock.close();
  });

  it("shows the person Delivered only once the Page's bot has acknowledged the message", async () => {
    const c = await setup();
    const sock = await connectPerson(t.url, c.person.token);
    bot.respond = (r) => (r.body.toString().includes(c.page.id) ? 500 : 200);
    try {
      const first = await personSays(api, c.person, c.thread.id, 'are you there?');
      const [failed] = await waitFor('the failed attempt', async () => {
        const rows = await t.db.query(
          `SELECT d.id FROM webhook_deliveries d JOIN webhook_attempts a ON a.delivery_id = d.id
            WHERE d.page_id = $1 AND a.status_code = 500`,
          [c.page.id],
        );
        return rows.length ? rows : undefined;
      });
      const before = await api.post('/threads', { page_id: c.page.id }, { token: c.person.token });
      expect(before.body).toMatchObject({ delivered_to_page_seq: 0, delivered_to_page_watermark: 0 });
      expect(sock.events.some((e) => e.type === 'delivery' && e.by === 'page')).toBe(false);

      bot.respond = () => 200;
      const retried = await api.post(`/apps/${c.app.id}/deliveries/${failed.id}/retry`, {}, { token: c.owner.token });
      expect(retried.status).toBeLessThan(300);
      const delivered = await sock.waitFor('delivered by page', (e) => e.type === 'delivery' && e.by === 'page');
      expect(delivered).toMatchObject({ thread_id: c.thread.id, page_id: c.page.id, seq: first.seq, watermark: first.timestamp });

      // A second message: the mark moves to it, once, however many times the bot is sent it.
      const second = await personSays(api, c.person, c.thread.id, 'hello?');
      const next = await sock.waitFor('delivered again', (e) => e.type === 'delivery' && e.by === 'page' && e.seq === second.seq);
      expect(next.watermark).toBe(second.timestamp);
      const [d2] = await t.db.query(`SELECT delivery_id FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
        JOIN webhook_events e ON e.id = d.event_id WHERE e.messaging->'message'->>'mid' = $1`, [second.mid]);
      await api.post(`/apps/${c.app.id}/deliveries/${d2.delivery_id}/retry`, {}, { token: c.owner.token });
      await waitFor('the retried delivery', async () => {
        const [r] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_attempts WHERE delivery_id = $1`, [d2.delivery_id]);
        return r.n >= 2 ? r : undefined;
      });
      const view = await api.post('/threads', { page_id: c.page.id }, { token: c.person.token });
      expect(view.body).toMatchObject({ delivered_to_page_seq: second.seq, delivered_to_page_watermark: second.timestamp });
      const [{ n }] = await t.db.query(
        `SELECT count(*)::int AS n FROM user_events e JOIN threads t ON t.user_id = e.user_id
          WHERE t.id = $1 AND e.payload->>'type' = 'delivery' AND e.payload->>'by' = 'page' AND e.payload->>'thread_id' = t.id`,
        [c.thread.id],
      );
      expect(n).toBe(2);
      assertGapFree(sock.events, 0);
    } finally {
      bot.respond = () => 200;
      await sock.close();
    }
  });

  it('takes only the postbacks and quick replies the Page offered, and writes nothing for a forged one', async () => {
    const c = await setup();
    const post = (path: string, body: object) => api.post(`/threads/${c.thread.id}/${path}`, body, { token: c.person.token });
    // What a send writes: the message and its outbox event (the worker writes attempts and receipts meanwhile).
    const written = async () =>
      (
        await t.db.query(
          `SELECT (SELECT count(*)::int FROM messages WHERE thread_id = $1) AS messages,
                  (SELECT count(*)::int FROM webhook_events WHERE page_id = $2) AS events`,
          [c.thread.id, c.page.id],
        )
      )[0];
    const refusedCleanly = async (path: string, body: object, code: string) => {
      const before = await written();
      const res = await post(path, body);
      expect([res.status, res.body.code]).toEqual([400, code]);
      expect(await written()).toEqual(before);
    };
    // Nothing offered yet: a bot would take these for taps on its own buttons.
    await refusedCleanly('postbacks', { title: 'Buy', payload: 'BUY_1' }, 'THREAD.POSTBACK_NOT_OFFERED');
    await refusedCleanly('messages', { text: 'Red', quick_reply: { payload: 'QR_RED' }, client_message_id: clientId() }, 'THREAD.QUICK_REPLY_NOT_OFFERED');

    const offer = await pageSays(api, c.pageToken, c.psid, {
      attachment: { type: 'template', payload: { template_type: 'button', text: 'Which one?', buttons: [{ type: 'postback', title: 'Buy', payload: 'BUY_1' }] } },
      quick_replies: [{ content_type: 'text', title: 'Red', payload: 'QR_RED' }, { content_type: 'user_email' }],
    });
    expect(offer.status).toBe(200);
    // Messenger posts the chip's title as the text.
    await refusedCleanly('messages', { text: 'Green', quick_reply: { payload: 'QR_RED' }, client_message_id: clientId() }, 'THREAD.QUICK_REPLY_NOT_OFFERED');
    const chip = await post('messages', { text: 'Red', quick_reply: { payload: 'QR_RED' }, client_message_id: 'qr-red' });
    expect(chip.status).toBe(201);
    // Answered, the chips are gone (as on Messenger, where they leave with the next message); the buttons stay.
    await refusedCleanly('messages', { text: 'Red', quick_reply: { payload: 'QR_RED' }, client_message_id: clientId() }, 'THREAD.QUICK_REPLY_NOT_OFFERED');
    const tapped = await post('postbacks', { title: 'Buy', payload: 'BUY_1' });
    expect(tapped.status).toBe(201);
    await refusedCleanly('postbacks', { title: 'Buy now', payload: 'BUY_1' }, 'THREAD.POSTBACK_NOT_OFFERED');
    const [postback, quickReply] = await waitFor('the tap and the chip at the bot', () => {
      const pb = itemsFor(c.page.id, (m) => m.postback?.mid === tapped.body.mid)[0];
      const qr = itemsFor(c.page.id, (m) => m.message?.mid === chip.body.mid)[0];
      return pb && qr ? [pb, qr] : undefined;
    });
    expect(postback.postback).toEqual({ mid: tapped.body.mid, title: 'Buy', payload: 'BUY_1' });
    expect(quickReply.message).toEqual({ mid: chip.body.mid, text: 'Red', quick_reply: { payload: 'QR_RED' } });
    // A retry of the chip's send is still answered with it.
    const retried = await post('messages', { text: 'Red', quick_reply: { payload: 'QR_RED' }, client_message_id: 'qr-red' });
    expect([retried.status, retried.body.mid]).toEqual([200, chip.body.mid]);

    // Email and phone chips: Messenger's payload and text are both the person's value, so it must be one.
    expect((await pageSays(api, c.pageToken, c.psid, { text: 'How can we reach you?', quick_replies: [{ content_type: 'user_email' }, { content_type: 'user_phone_number' }] })).status).toBe(200);
    for (const forged of ['REFUND_ALL', 'ada@', '12']) {
      await refusedCleanly('messages', { text: forged, quick_reply: { payload: forged }, client_message_id: clientId() }, 'THREAD.QUICK_REPLY_NOT_OFFERED');
    }
    await refusedCleanly('messages', { text: 'x', quick_reply: { payload: 'ada@example.com' }, client_message_id: clientId() }, 'THREAD.QUICK_REPLY_NOT_OFFERED');
    expect((await post('messages', { text: 'ada@example.com', quick_reply: { payload: 'ada@example.com' }, client_message_id: clientId() })).status).toBe(201);
    expect((await pageSays(api, c.pageToken, c.psid, { text: 'Or call?', quick_replies: [{ content_type: 'user_phone_number' }] })).status).toBe(200);
    await refusedCleanly('messages', { text: 'ada@example.com', quick_reply: { payload: 'ada@example.com' }, client_message_id: clientId() }, 'THREAD.QUICK_REPLY_NOT_OFFERED');
    expect((await post('messages', { text: '+1 (555) 010-0199', quick_reply: { payload: '+1 (555) 010-0199' }, client_message_id: clientId() })).status).toBe(201);

    // An image chip may have no title: any text goes with its payload.
    expect((await pageSays(api, c.pageToken, c.psid, { text: 'Which?', quick_replies: [{ content_type: 'text', title: '', payload: 'QR_IMG', image_url: 'https://example.com/i.png' }] })).status).toBe(200);
    expect((await post('messages', { text: 'this one', quick_reply: { payload: 'QR_IMG' }, client_message_id: clientId() })).status).toBe(201);

    // The Page's next message takes its chips away too.
    expect((await pageSays(api, c.pageToken, c.psid, { text: 'Pick', quick_replies: [{ content_type: 'text', title: 'Blue', payload: 'QR_BLUE' }] })).status).toBe(200);
    expect((await pageSays(api, c.pageToken, c.psid, { text: 'Noted' })).status).toBe(200);
    await refusedCleanly('messages', { text: 'Blue', quick_reply: { payload: 'QR_BLUE' }, client_message_id: clientId() }, 'THREAD.QUICK_REPLY_NOT_OFFERED');
    expect((await post('postbacks', { title: 'Buy', payload: 'BUY_1' })).status).toBe(201);

    // The Messenger Profile's buttons: Get Started, the persistent menu's postbacks, ice breakers.
    const profile = await api.post(`/v25.0/me/messenger_profile?access_token=${c.pageToken}`, {
      get_started: { payload: 'START' },
      persistent_menu: [
        {
          locale: 'default',
          call_to_actions: [
            { type: 'web_url', title: 'Shop', url: 'https://shop.example.com' },
            { type: 'postback', title: 'Help', payload: 'HELP' },
          ],
        },
      ],
      ice_breakers: [{ question: 'Where are you?', payload: 'WHERE' }],
    });
    expect(profile.status).toBe(200);
    for (const body of [
      { title: 'Get Started', payload: 'START' },
      { title: 'Help', payload: 'HELP' },
      { title: 'Where are you?', payload: 'WHERE' },
    ]) {
      expect({ body, status: (await post('postbacks', body)).status }).toEqual({ body, status: 201 });
    }
    await refusedCleanly('postbacks', { title: 'Help', payload: 'START' }, 'THREAD.POSTBACK_NOT_OFFERED');
    await refusedCleanly('postbacks', { title: 'Shop', payload: 'https://shop.example.com' }, 'THREAD.POSTBACK_NOT_OFFERED');
  });

  it("ends the Page's typing at typing_off and at the Page's next message, not at a later timeout", async () => {
    const c = await setup();
    // The same person on another Page: its typing timeout is the marker below.
    const other = await createPage(api, c.owner, 'Other Shop');
    const otherToken = await connectApp(api, c.owner, other.id, c.app.id);
    const otherThread = await openThread(api, c.person, other.id);
    const [{ psid: otherPsid }] = await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1 RETURNING psid', [otherThread.id, Date.now()]);
    const sock = await connectPerson(t.url, c.person.token);
    try {
      const typing = (on: boolean) =>
        api.post(`/v25.0/me/messages?access_token=${c.pageToken}`, { recipient: { id: c.psid }, sender_action: on ? 'typing_on' : 'typing_off' });
      expect((await typing(true)).status).toBe(200);
      await sock.waitFor('typing on', (e) => e.type === 'typing' && e.on);
      expect((await typing(false)).status).toBe(200);
      const off = await sock.waitFor('typing off', (e) => e.type === 'typing' && !e.on);
      expect(off).toMatchObject({ thread_id: c.thread.id, page_id: c.page.id });
      expect(off.reason).toBeUndefined();

      expect((await typing(true)).status).toBe(200);
      await sock.waitForCount('typing on again', 2, (e) => e.type === 'typing' && e.on);
      const reply = await pageSays(api, c.pageToken, c.psid, { text: 'Here it is' });
      expect(reply.status).toBe(200);
      await sock.waitFor('the message', (e) => e.type === 'message' && e.message.mid === reply.body.message_id);
      // The message ended it: no timeout follows (TYPING_TIMEOUT_MS is 300 here), and no typing event at all
      // after the message; the client hides the indicator on the message itself. Typing started on the other
      // thread after the message times out after any timer the message should have cleared (same length, set
      // earlier, same socket), so once its timeout is here, one for this thread would be too.
      expect((await api.post(`/v25.0/me/messages?access_token=${otherToken}`, { recipient: { id: otherPsid }, sender_action: 'typing_on' })).status).toBe(200);
      await sock.waitFor('the other thread\'s typing timeout', (e) => e.type === 'typing' && e.thread_id === otherThread.id && e.reason === 'timeout');
      const at = sock.events.findIndex((e) => e.type === 'message' && e.message.mid === reply.body.message_id);
      expect(sock.events.slice(at + 1).filter((e) => e.type === 'typing' && e.thread_id === c.thread.id)).toEqual([]);
      expect(sock.events.filter((e) => e.type === 'typing' && e.reason === 'timeout' && e.thread_id === c.thread.id)).toEqual([]);
    } finally {
      await sock.close();
    }
  });

  it('sends each event to every app connected to the Page that subscribed to its field, and to no other', async () => {
    const c = await setup();
    const bot2 = await startBotReceiver('verify-two');
    try {
      // App B: connected for messages and echoes at the Page, subscribed for messages and postbacks at the app, so
      // only messages reach it (both levels must name a field).
      const b = await createApp(api, c.owner, 'Second bot');
      await connectApp(api, c.owner, c.page.id, b.id, ['messages', 'message_echoes']);
      const sub = await api.post(`/v25.0/${b.id}/subscriptions`, {
        access_token: b.token,
        object: 'page',
        callback_url: bot2.url,
        verify_token: 'verify-two',
        fields: 'messages,messaging_postbacks',
      });
      expect(sub.status).toBe(200);
      bot2.secrets.push(b.secret);

      const sent = await personSays(api, c.person, c.thread.id, 'for both bots');
      const pb = await api.post(`/threads/${c.thread.id}/postbacks`, await offerGetStarted(api, c.pageToken), { token: c.person.token });
      expect(pb.status).toBe(201);
      const reply = await pageSays(api, c.pageToken, c.psid, { text: 'echo me' });
      expect(reply.status).toBe(200);

      // The outbox is written with its cause, so what each app will get is already decided.
      const fieldsOf = async (appId: string) =>
        (
          await t.db.query(
            `SELECT e.field FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
              WHERE d.app_id = $1 AND d.page_id = $2 ORDER BY e.field`,
            [appId, c.page.id],
          )
        ).map((r: { field: string }) => r.field);
      expect(await fieldsOf(c.app.id)).toEqual(['message_echoes', 'messages', 'messaging_postbacks']);
      expect(await fieldsOf(b.id)).toEqual(['messages']);

      // Both bots get the message, each signed with its own app's secret.
      const [toB] = await waitFor('the message at the second bot', () => {
        const got = bot2.received.filter((r) => r.method === 'POST' && r.body.toString().includes(sent.mid));
        return got.length ? got : undefined;
      });
      expect(toB.signatureValid).toBe(true);
      const body = JSON.parse(toB.body.toString());
      expect(body.entry[0].messaging[0]).toEqual({
        sender: { id: c.psid },
        recipient: { id: c.page.id },
        timestamp: sent.timestamp,
        message: { mid: sent.mid, text: 'for both bots' },
      });
      await waitFor('the message, postback and echo at the first bot', () => {
        const got = itemsFor(c.page.id);
        return got.some((m) => m.message?.mid === sent.mid) && got.some((m) => m.postback?.payload === 'GET_STARTED') && got.some((m) => m.message?.is_echo)
          ? got
          : undefined;
      });
      await waitFor("every delivery settled", async () => {
        const [r] = await t.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE page_id = $1 AND status <> 'delivered'`, [c.page.id]);
        return r.n === 0 ? r : undefined;
      });
      expect(bot2.received.filter((r) => r.method === 'POST').length).toBe(1);
    } finally {
      await bot2.close();
    }
  });

  it('takes form-encoded Send API bodies, and stores templates as structured content', async () => {
    const c = await setup();
    const template = {
      attachment: { type: 'template', payload: { template_type: 'button', text: 'Pick', buttons: [{ type: 'postback', title: 'A', payload: 'A' }] } },
      quick_replies: [{ content_type: 'text', title: 'Yes', payload: 'Y' }],
    };
    const res = await api.post('/v25.0/me/messages', undefined, {
      form: { access_token: c.pageToken, recipient: JSON.stringify({ id: c.psid }), messaging_type: 'RESPONSE', message: JSON.stringify(template) },
    });
    expect(res.status).toBe(200);
    const list = await api.get(`/threads/${c.thread.id}/messages?after_seq=0`, { token: c.person.token });
    expect(list.body.data).toEqual([
      expect.objectContaining({ mid: res.body.message_id, seq: 1, sender: 'page', attachment: template.attachment, quick_replies: template.quick_replies }),
    ]);
    const unread = await api.get('/threads', { token: c.person.token });
    expect(unread.body.data[0].unread_count).toBe(1);
  });

  it("lists a person's threads newest activity first, a page at a time, each exactly once", async () => {
    const c = await setup();
    // Seven threads: four with messages, three without (ordered among themselves by when they were opened).
    const threads = [c.thread];
    for (let i = 0; i < 6; i++) threads.push(await openThread(api, c.person, (await createPage(api, c.owner, `Shop ${i}`)).id));
    for (const th of [threads[2], threads[0], threads[5], threads[3]]) await personSays(api, c.person, th.id, 'hello');
    const all = await api.get('/threads?limit=100', { token: c.person.token });
    expect(all.body.paging).toEqual({ next_cursor: null });
    expect(all.body.data.map((th: { id: string }) => th.id)).toEqual([3, 5, 0, 2, 6, 4, 1].map((i) => threads[i].id));

    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const res: HttpResult = await api.get(`/threads?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: c.person.token });
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      paged.push(...res.body.data.map((th: { id: string }) => th.id));
      cursor = res.body.paging.next_cursor;
    } while (cursor);
    expect(paged).toEqual(all.body.data.map((th: { id: string }) => th.id));

    for (const bad of ['abc', '1.2', '1.2.3.4', `1.${'9'.repeat(19)}.1`, '-1.2.3']) {
      const res = await api.get(`/threads?cursor=${encodeURIComponent(bad)}`, { token: c.person.token });
      expect({ bad, status: res.status, code: res.body.code }).toEqual({ bad, status: 400, code: 'REQUEST.VALIDATION_FAILED' });
    }
    // The largest cursor the format takes sorts before every thread: the whole list, not an overflow.
    const far = await api.get(`/threads?cursor=${'9'.repeat(15)}.${'9'.repeat(18)}.${'9'.repeat(20)}`, { token: c.person.token });
    expect([far.status, far.body.data.length]).toEqual([200, 7]);
  });

  it('brings 100 rapid messages to the bot and the person in seq order, and 100 replies back in order', async () => {
    const c = await setup();
    const sock = await connectPerson(t.url, c.person.token);
    const sends = await Promise.all(Array.from({ length: 100 }, (_, i) => personSays(api, c.person, c.thread.id, `n${i}`)));
    expect(sends.map((s) => s.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const seqOf = new Map(sends.map((s) => [s.mid, s.seq]));

    const echoes = await sock.waitForCount('100 echoes', 100, (e) => e.type === 'echo');
    expect(echoes.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const inbound = await waitFor('100 webhooks', () => {
      const got = itemsFor(c.page.id, (m) => m.message && !m.message.is_echo);
      return got.length >= 100 ? got : undefined;
    });
    // Retries may repeat one; the first arrival of each mid is in seq order.
    const firsts = [...new Map(inbound.map((m) => [m.message.mid, m])).values()];
    expect(firsts.map((m) => seqOf.get(m.message.mid))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(firsts.map((m) => m.timestamp)).toEqual([...firsts.map((m) => m.timestamp)].sort((a, b) => a - b));

    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => pageSays(api, c.pageToken, c.psid, { text: `r${i}` })));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const pushed = await sock.waitForCount('100 replies', 100, (e) => e.type === 'message');
    expect(pushed.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 101));
    assertGapFree(sock.events, 0);
    await sock.close();
  });

  it('stores one message for a retried client_message_id, concurrent retries included', async () => {
    const c = await setup();
    const body = { text: 'only once', client_message_id: 'retry-me' };
    const first = await api.post(`/threads/${c.thread.id}/messages`, body, { token: c.person.token });
    expect(first.status).toBe(201);
    const again = await api.post(`/threads/${c.thread.id}/messages`, body, { token: c.person.token });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);

    const racing = await Promise.all(
      Array.from({ length: 8 }, () => api.post(`/threads/${c.thread.id}/messages`, { text: 'race', client_message_id: 'race-1' }, { token: c.person.token })),
    );
    expect(racing.filter((r) => r.status === 201)).toHaveLength(1);
    expect(new Set(racing.map((r) => r.body.mid)).size).toBe(1);
    const rows = await t.db.query('SELECT count(*)::int AS n FROM messages WHERE thread_id = $1', [c.thread.id]);
    expect(rows[0].n).toBe(2);
    const [thread] = await t.db.query('SELECT last_seq FROM threads WHERE id = $1', [c.thread.id]);
    expect(Number(thread.last_seq)).toBe(2);
    await waitFor('two webhooks', () => itemsFor(c.page.id, (m) => m.message && !m.message.is_echo).length === 2);
  });

  it('records one receipt for concurrent reads or deliveries of the same mark', async () => {
    const c = await setup();
    const reply = await pageSays(api, c.pageToken, c.psid, { text: 'read me once' });
    expect(reply.status).toBe(200);
    const [{ timestamp, user_id: userId }] = await t.db.query(
      'SELECT m.timestamp, t.user_id FROM messages m JOIN threads t ON t.id = m.thread_id WHERE m.mid = $1',
      [reply.body.message_id],
    );
    const watermark = Number(timestamp);
    const marks = await Promise.all(
      ['read', 'delivered'].flatMap((kind) =>
        Array.from({ length: 8 }, () => api.post(`/threads/${c.thread.id}/${kind}`, { watermark }, { token: c.person.token })),
      ),
    );
    expect(marks.map((r) => [r.status, r.body.watermark])).toEqual(Array.from({ length: 16 }, () => [200, watermark]));
    const events = await t.db.query(
      `SELECT type, count(*)::int AS n FROM user_events WHERE user_id = $1 AND payload->>'by' = 'person' GROUP BY type ORDER BY type`,
      [userId],
    );
    expect(events).toEqual([{ type: 'delivery', n: 1 }, { type: 'read', n: 1 }]);
    const outbox = await t.db.query(
      `SELECT e.field, count(*)::int AS n FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE d.page_id = $1 AND e.field IN ('message_reads', 'message_deliveries') GROUP BY e.field ORDER BY e.field`,
      [c.page.id],
    );
    expect(outbox).toEqual([{ field: 'message_deliveries', n: 1 }, { field: 'message_reads', n: 1 }]);
  });

  it("keeps people out of each other's threads and pages out of each other's conversations", async () => {
    const c = await setup();
    const stranger = await signupPerson(api, 'Stranger');
    for (const [method, path, body] of [
      ['GET', `/threads/${c.thread.id}`, undefined],
      ['GET', `/threads/${c.thread.id}/messages`, undefined],
      ['POST', `/threads/${c.thread.id}/messages`, { text: 'hi', client_message_id: clientId() }],
      ['POST', `/threads/${c.thread.id}/postbacks`, { title: 't', payload: 'p' }],
      ['POST', `/threads/${c.thread.id}/read`, { watermark: Date.now() }],
      ['POST', `/threads/${c.thread.id}/delivered`, { watermark: Date.now() }],
    ] as const) {
      const res = await api.call(method, path, body, { token: stranger.token });
      expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status: 404, code: 'THREAD.NOT_FOUND' });
    }
    expect((await api.get('/threads', { token: stranger.token })).body.data).toEqual([]);

    // Page Y (another business) with its own app and token.
    const other = await setup();
    const cross = await api.post(`/v25.0/${c.page.id}/messages?access_token=${other.pageToken}`, { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'x' } });
    expect(cross.status).toBe(403);
    expect(cross.body.error).toMatchObject({ code: 200, fbtrace_id: expect.any(String) });
    // Through /me, X's PSID means nothing on Y.
    const viaMe = await pageSays(api, other.pageToken, c.psid, { text: 'x' });
    expect(viaMe.body.error).toMatchObject({ code: 100, error_subcode: 2018001, message: '(#100) No matching user found' });
    const [n] = await t.db.query('SELECT count(*)::int AS n FROM messages WHERE thread_id = $1', [c.thread.id]);
    expect(n.n).toBe(0);
  });

  it('gives one person a different PSID on every Page, and the same thread on a second open', async () => {
    const owner = await signupPerson(api);
    const p1 = await createPage(api, owner, 'One');
    const p2 = await createPage(api, owner, 'Two');
    const person = await signupPerson(api);
    const t1 = await openThread(api, person, p1.id);
    const t2 = await openThread(api, person, p2.id);
    const again = await api.post('/threads', { page_id: p1.id }, { token: person.token });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(t1.id);
    const rows = await t.db.query('SELECT psid FROM threads WHERE id = ANY($1::varchar[])', [[t1.id, t2.id]]);
    expect(new Set(rows.map((r: { psid: string }) => r.psid)).size).toBe(2);
    expect(rows.map((r: { psid: string }) => r.psid)).not.toContain(person.id);
    const missing = await api.post('/threads', { page_id: '999999999999999' }, { token: person.token });
    expect(missing.status).toBe(404);
  });

  it('answers bad Send API input with Graph error 100, never a 5xx', async () => {
    const c = await setup();
    const send = (body: unknown) => api.post(`/v25.0/me/messages?access_token=${c.pageToken}`, body);
    const cases: [string, unknown, RegExp][] = [
      ['unknown PSID', { recipient: { id: '1234567890123456' }, messaging_type: 'RESPONSE', message: { text: 'x' } }, /No matching user found/],
      ['empty message', { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: {} }, /message/],
      ['empty text', { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: '' } }, /text/],
      ['both', { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'x' }, sender_action: 'typing_on' }, /sender_action/],
      ['oversize text', { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'x'.repeat(2000) } }, /2000/],
      ['no recipient', { messaging_type: 'RESPONSE', message: { text: 'x' } }, /recipient/],
      ['no body', undefined, /./],
      ['array body', [1, 2], /./],
      ['unknown action', { recipient: { id: c.psid }, sender_action: 'dance' }, /sender_action/],
    ];
    for (const [name, body, pattern] of cases) {
      const res = await send(body);
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
      expect(res.body.error).toMatchObject({ code: 100, type: 'OAuthException', fbtrace_id: expect.any(String) });
      expect(res.body.error.message).toMatch(pattern);
    }
    const badJson = await api.post('/v25.0/me/messages', undefined, { form: { access_token: c.pageToken, recipient: '{"id":', message: '{}' } });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error.code).toBe(100);
    const noToken = await api.post('/v25.0/me/messages', { recipient: { id: c.psid }, message: { text: 'x' } });
    expect(noToken.body.error.code).toBe(190);
    const personToken = await api.post(`/v25.0/me/messages?access_token=${c.person.token}`, { recipient: { id: c.psid }, message: { text: 'x' } });
    expect(personToken.body.error.code).toBe(200);
    const [n] = await t.db.query('SELECT count(*)::int AS n FROM messages WHERE thread_id = $1', [c.thread.id]);
    expect(n.n).toBe(0);
  });
});
