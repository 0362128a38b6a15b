import { BotReceiver, receivedEntries, waitForEntry } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson, PersonSocket } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { botConversation, openThread, pageSays, personSays, settled } from '../factories/messaging.factory';
import { createPage, signupPerson } from '../factories/registry.factory';

// Meta's complex coupon example (send-messages/template/coupon), every property set.
const COUPON = {
  template_type: 'coupon',
  title: '10% off everything',
  subtitle: '10% off. Limit 1 per customer. Expires on October 1st, 2022',
  coupon_code: '10PERCENT',
  coupon_url: 'https://www.myshop.com/',
  coupon_url_button_title: 'Shop now',
  coupon_pre_message: "Here's a deal just for you!",
  image_url: 'https://www.myshop.com/sale-image.png',
  payload: 'The coupon for 10% off everything that expires 2022-10-1',
};
const { coupon_code: _code, ...WITHOUT_CODE } = COUPON;
const coupon = (over: object = {}) => ({ attachment: { type: 'template', payload: { ...COUPON, ...over } } });

// Messenger's coupon template end to end, over real Postgres and Redis: the bot sends it, the person sees it without
// its code, reveals it (once, on their own thread), and the bot gets the messages webhook Meta's coupon page shows.
describe('messaging: coupons', () => {
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

  // A Page with a bot subscribed to the core fields, and a person who has written to it (the window is open).
  async function setup() {
    const c = await botConversation(api, t.db, { appName: 'Shop bot', firstText: 'Any deals?' });
    bots.push(c.bot);
    return c;
  }
  const reveal = (threadId: string, mid: string, token?: string) => api.post(`/threads/${threadId}/messages/${mid}/reveal`, undefined, { token });
  const reveals = (bot: BotReceiver) => receivedEntries(bot).filter(([, m]) => m.template);
  const socket = async (token: string) => {
    const s = await connectPerson(t.url, token);
    sockets.push(s);
    return s;
  };

  it('shows the person the coupon without its code until they reveal it; the bot gets the reveal, signed, once', async () => {
    const c = await setup();
    const device = await socket(c.person.token);
    const otherDevice = await socket(c.person.token);
    const sent = await pageSays(api, c.app.pageToken, c.psid, coupon());
    expect(sent.status).toBe(200);
    const mid = sent.body.message_id as string;
    expect(sent.body).toEqual({ recipient_id: c.psid, message_id: mid });

    // The Page's echo carries the whole coupon.
    const [, echo] = await waitForEntry('the echo', c.bot, (_, m) => m.message?.is_echo && m.message.mid === mid);
    expect(echo.message.attachments).toEqual([{ type: 'template', payload: COUPON }]);

    // Every way the person reads messages leaves the code out: the socket, history, the thread list, the long-poll.
    const hidden = { type: 'template', payload: WITHOUT_CODE };
    const live = await device.waitFor('the coupon', (e) => e.type === 'message' && e.message.mid === mid);
    expect(live.message).toMatchObject({ sender: 'page', attachment: hidden, coupon: { revealed: false } });
    expect(live.message.attachment).toEqual(hidden);
    const history = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(history.body.data.find((m: any) => m.mid === mid)).toMatchObject({ attachment: hidden, coupon: { revealed: false } });
    expect(history.body.data.find((m: any) => m.mid === mid).attachment).toEqual(hidden);
    const list = await api.get('/threads', { token: c.person.token });
    expect(list.body.data.find((th: any) => th.id === c.thread.id).last_message.attachment).toEqual(hidden);
    const polled = await api.get('/events?after=0&timeout=0', { token: c.person.token });
    expect(polled.body.events.find((e: any) => e.message?.mid === mid).message.attachment).toEqual(hidden);
    expect(JSON.stringify([live, history.body, list.body, polled.body])).not.toContain(COUPON.coupon_code);
    // The Page's own people see it in their inbox.
    const inbox = await api.get(`/pages/${c.page.id}/inbox/${c.thread.id}/messages`, { token: c.owner.token });
    expect(inbox.body.data.find((m: any) => m.mid === mid)).toMatchObject({ attachment: { payload: COUPON }, coupon: { revealed: false } });

    // Reveal: the answer is the coupon with its code; the bot gets Meta's shape, under a valid signature.
    const first = await reveal(c.thread.id, mid, c.person.token);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ mid, attachment: { type: 'template', payload: COUPON }, coupon: { revealed: true, revealed_at: expect.any(Number) } });
    const [key, item] = await waitForEntry('the reveal webhook', c.bot, (_, m) => m.template);
    expect(key).toBe('messaging');
    expect(item).toEqual({
      sender: { id: c.psid },
      recipient: { id: c.page.id },
      timestamp: expect.any(Number),
      template: { type: 'coupon', payload: COUPON.payload, coupon_code: COUPON.coupon_code },
    });
    const [row] = await t.db.query(`SELECT e.field FROM webhook_events e WHERE e.page_id = $1 AND e.messaging ? 'template'`, [c.page.id]);
    expect(row.field).toBe('messages');
    // The person's other devices show the code.
    const onOther = await otherDevice.waitFor('the reveal on another device', (e) => e.type === 'coupon_reveal');
    expect(onOther).toMatchObject({ mid, coupon_code: COUPON.coupon_code, revealed_at: first.body.coupon.revealed_at, thread_id: c.thread.id, cursor: expect.any(Number) });

    // Again, from any device, or several at once: the same answer, and the bot and the devices hear nothing more.
    const again = await Promise.all([0, 1, 2].map(() => reveal(c.thread.id, mid, c.person.token)));
    for (const r of again) expect([r.status, r.body]).toEqual([200, first.body]);
    await settled(api, c);
    expect(reveals(c.bot)).toHaveLength(1);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM user_events WHERE user_id = $1 AND type = 'coupon_reveal'`, [c.person.id]);
    expect(n).toBe(1);
    // From then on every read carries the code.
    const after = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(after.body.data.find((m: any) => m.mid === mid)).toMatchObject({ attachment: { payload: COUPON }, coupon: { revealed: true } });
  });

  it('reveals two coupons at once once each, and leaves out a payload the coupon has none of', async () => {
    const c = await setup();
    const mids: string[] = [];
    for (const code of ['SPRING', 'AUTUMN']) {
      const res = await pageSays(api, c.app.pageToken, c.psid, coupon({ coupon_code: code, payload: undefined }));
      mids.push(res.body.message_id);
    }
    const taps = await Promise.all([...mids, ...mids, ...mids].map((mid) => reveal(c.thread.id, mid, c.person.token)));
    expect(taps.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    await waitFor('two reveal webhooks', () => reveals(c.bot).length >= 2);
    await settled(api, c);
    expect(reveals(c.bot).map(([, m]) => m.template)).toEqual(
      expect.arrayContaining([
        { type: 'coupon', coupon_code: 'SPRING' },
        { type: 'coupon', coupon_code: 'AUTUMN' },
      ]),
    );
    expect(reveals(c.bot)).toHaveLength(2);
  });

  it("refuses another person's thread, other threads' messages, what is not a coupon with a code, and bad ids, writing nothing", async () => {
    const c = await setup();
    const d = await setup();
    const mine = (await pageSays(api, c.app.pageToken, c.psid, coupon())).body.message_id as string;
    const linkOnly = (await pageSays(api, c.app.pageToken, c.psid, coupon({ coupon_code: undefined }))).body.message_id as string;
    const text = (await pageSays(api, c.app.pageToken, c.psid, { text: 'Hello' })).body.message_id as string;
    const ownMessage = await personSays(api, c.person, c.thread.id, 'Thanks');
    const theirs = (await pageSays(api, d.app.pageToken, d.psid, coupon())).body.message_id as string;
    // What a reveal writes (the worker goes on writing receipts meanwhile, so not every table's count).
    const written = async () =>
      (
        await t.db.query(
          `SELECT (SELECT count(*)::int FROM user_events WHERE type = 'coupon_reveal') AS events,
                  (SELECT count(*)::int FROM webhook_events WHERE messaging ? 'template') AS webhooks,
                  (SELECT count(coupon_revealed_at)::int FROM messages) AS revealed`,
        )
      )[0];
    const before = await written();

    const cases: [string, Promise<any>, number, string?][] = [
      // Another person's thread is not found at all, as the other thread routes answer.
      ["another person's thread", reveal(d.thread.id, theirs, c.person.token), 404, 'THREAD.NOT_FOUND'],
      ['a message of another thread', reveal(c.thread.id, theirs, c.person.token), 404, 'THREAD.MESSAGE_NOT_FOUND'],
      ['an unknown mid', reveal(c.thread.id, 'm_nothinghere', c.person.token), 404, 'THREAD.MESSAGE_NOT_FOUND'],
      ['a coupon with only a URL', reveal(c.thread.id, linkOnly, c.person.token), 400, 'THREAD.NOT_A_COUPON'],
      ["the Page's text", reveal(c.thread.id, text, c.person.token), 400, 'THREAD.NOT_A_COUPON'],
      ["the person's own message", reveal(c.thread.id, ownMessage.mid, c.person.token), 400, 'THREAD.NOT_A_COUPON'],
      ['a mid that is no mid', reveal(c.thread.id, 'nope', c.person.token), 400, 'REQUEST.VALIDATION_FAILED'],
      ['a thread id that is no id', reveal('abc', mine, c.person.token), 404, 'THREAD.NOT_FOUND'],
      ['no token', reveal(c.thread.id, mine), 401],
      ["the Page's token", reveal(c.thread.id, mine, c.app.pageToken), 403],
    ];
    for (const [what, call, status, code] of cases) {
      const res = await call;
      expect({ what, status: res.status }).toEqual({ what, status });
      expect(res.body).toMatchObject({ statusCode: status, code: code ?? expect.any(String), message: expect.any(String) });
    }
    expect(await written()).toEqual(before);
    // The refusals were not for want of a coupon to reveal.
    expect((await reveal(c.thread.id, mine, c.person.token)).status).toBe(200);
    expect(await written()).toEqual({ events: before.events + 1, webhooks: before.webhooks + 1, revealed: before.revealed + 1 });
    await settled(api, c);
    await settled(api, d);
    expect(reveals(c.bot).map(([, m]) => m.template.coupon_code)).toEqual([COUPON.coupon_code]);
    expect(reveals(d.bot)).toEqual([]);
  });

  it("refuses a coupon the Send API can't take with Graph's code 100, and takes one form-encoded", async () => {
    const c = await setup();
    const send = (message: unknown) => pageSays(api, c.app.pageToken, c.psid, message);
    const P = 'message[attachment][payload]';
    const refused: [object, string][] = [
      [coupon({ coupon_code: '10 PERCENT' }), `param ${P}[coupon_code] must not contain spaces`],
      [coupon({ coupon_code: undefined, coupon_url: undefined }), `param ${P} must set one of coupon_code or coupon_url`],
      [coupon({ title: 'x'.repeat(81) }), `param ${P}[title] must be at most 80 characters`],
      [coupon({ title: undefined }), `param ${P}[title] is required`],
      [coupon({ subtitle: 'x'.repeat(81) }), `param ${P}[subtitle] must be at most 80 characters`],
      [coupon({ coupon_url: 'www.myshop.com' }), `param ${P}[coupon_url] must be a valid URL`],
    ];
    const stored = async () => (await t.db.query('SELECT count(*)::int AS n FROM messages WHERE thread_id = $1', [c.thread.id]))[0].n;
    const before = await stored();
    for (const [message, text] of refused) {
      const res = await send(message);
      expect([res.status, res.body.error?.code, res.body.error?.message]).toEqual([400, 100, `(#100) ${text}`]);
      expect(res.body.error).toMatchObject({ type: 'OAuthException', fbtrace_id: expect.any(String) });
    }
    expect(await stored()).toBe(before);

    // As Graph takes nested params: JSON strings in a form.
    const form = await api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(c.app.pageToken)}`, undefined, {
      form: { recipient: JSON.stringify({ id: c.psid }), messaging_type: 'RESPONSE', message: JSON.stringify(coupon({ coupon_code: 42 })) },
    });
    expect(form.status).toBe(200);
    const [row] = await t.db.query('SELECT content FROM messages WHERE mid = $1', [form.body.message_id]);
    expect(row.content.attachment.payload).toEqual({ ...COUPON, coupon_code: '42' });
  });

  it("runs a hosted script's onTemplate when the person reveals a coupon its onMessage sent", async () => {
    const owner = await signupPerson(api, 'Script Owner');
    const page = await createPage(api, owner, 'Scripted Shop');
    const source = `export default {
      async onMessage(event, ctx) {
        await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { attachment: { type: 'template',
          payload: { template_type: 'coupon', title: 'Welcome gift', coupon_code: 'WELCOME5', payload: 'welcome' } } } });
      },
      async onTemplate(event, ctx) {
        const t = event.template;
        await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { text: 'Enjoy ' + t.coupon_code + ' (' + t.type + ', ' + t.payload + ')' } });
      },
    };`;
    const uploaded = await api.post(`/pages/${page.id}/scripts`, { source }, { token: owner.token });
    expect(uploaded.status).toBe(201);
    expect((await api.post(`/pages/${page.id}/scripts/${uploaded.body.version}/activate`, {}, { token: owner.token })).status).toBe(200);
    const person = await signupPerson(api, 'Customer');
    const thread = await openThread(api, person, page.id);
    const device = await socket(person.token);
    await personSays(api, person, thread.id, 'hi');
    const sent = await device.waitFor('the coupon', (e) => e.type === 'message' && e.message.attachment?.payload?.template_type === 'coupon', 20_000);
    expect(sent.message.attachment.payload).toEqual({ template_type: 'coupon', title: 'Welcome gift', payload: 'welcome' });
    expect((await reveal(thread.id, sent.message.mid, person.token)).status).toBe(200);
    await device.waitFor('the script’s answer', (e) => e.type === 'message' && e.message.text === 'Enjoy WELCOME5 (coupon, welcome)', 20_000);
  });
});
