import { createHmac } from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { MediaUrlSigner } from '../../src/media/media-url-signer';
import { mp4WithDuration } from '../../src/media/processing/testing/media-fixtures';
import { AvatarUrlSigner } from '../../src/send-api/avatar';
import { validateSendRequest } from '../../libs/templates';
import { BotReceiver, startBotReceiver } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { clientId, conversation, offerGetStarted, openThread, personSays } from '../factories/messaging.factory';
import { connectApp, createPage, signupPerson } from '../factories/registry.factory';

const HOUR = 3600_000;
const proofOf = (secret: string, token: string) => createHmac('sha256', secret).update(token).digest('hex');

// The Send API as a Messenger bot uses it: templates to the person's socket and the echo webhook, the messaging
// window and tags, Idempotency-Key, appsecret_proof, attachment ids, Messenger Profile and User Profile.
describe('send api', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let bot: BotReceiver;
  // Where uploads by URL are fetched from (the media pipeline fetches and checks the bytes).
  let cdn: http.Server;
  let cdnUrl: string;

  beforeAll(async () => {
    t = await startTestPlatform({ env: { WEBHOOK_RECONCILE_INTERVAL_MS: '500' } });
    api = httpClient(t.url);
    bot = await startBotReceiver('verify-me');
    const files: Record<string, Buffer> = {
      '/cat.png': await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c84' } }).png().toBuffer(),
      '/v.mp4': mp4WithDuration({ timescale: 1000, duration: 1500 }),
    };
    cdn = http.createServer((req, res) => {
      const body = files[req.url ?? ''];
      res.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((r) => cdn.listen(0, '127.0.0.1', r));
    cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await bot?.close();
    await new Promise((r) => cdn?.close(r));
    await t?.close();
  });

  // A conversation whose person has just written (the window is open).
  async function setup(name = 'Ada Lovelace') {
    const c = await conversation(api, bot);
    bot.secrets.push(c.app.secret);
    await t.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, c.person.id]);
    await personSays(api, c.person, c.thread.id, 'hello');
    const [row] = await t.db.query('SELECT psid FROM threads WHERE id = $1', [c.thread.id]);
    return { ...c, psid: row.psid as string };
  }

  const send = (token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(token)}`, body, { headers });

  const backdate = (threadId: string, ms: number) =>
    t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1', [threadId, Date.now() - ms]);

  const echoesFor = (pageId: string) =>
    bot.received
      .map((r) => JSON.parse(r.body.toString('utf8')))
      // A delivery may batch several entries (one per event).
      .flatMap((b) => (b.entry ?? []).filter((e: any) => e.id === pageId))
      .flatMap((e: any) => e.messaging)
      .filter((m: any) => m.message?.is_echo);

  describe('templates', () => {
    it('delivers each template type to the socket and the echo webhook as structured content', async () => {
      const c = await setup();
      const upload = await api.post(`/v25.0/me/message_attachments?access_token=${c.pageToken}`, {
        message: { attachment: { type: 'image', payload: { url: `${cdnUrl}/cat.png`, is_reusable: true } } },
      });
      expect(upload.status).toBe(200);
      expect(upload.body).toEqual({ attachment_id: expect.stringMatching(/^\d+$/) });
      const attachmentId = upload.body.attachment_id;

      const messages: Record<string, unknown>[] = [
        {
          attachment: {
            type: 'template',
            payload: {
              template_type: 'generic',
              elements: [
                {
                  title: 'Shirt',
                  subtitle: 'Blue',
                  image_url: 'https://example.com/s.png',
                  default_action: { type: 'web_url', url: 'https://example.com/s' },
                  buttons: [
                    { type: 'web_url', title: 'View', url: 'https://example.com/s' },
                    { type: 'postback', title: 'Buy', payload: 'BUY_1' },
                    { type: 'phone_number', title: 'Call', payload: '+15105551234' },
                  ],
                },
                { title: 'Hat', subtitle: 'Red' },
              ],
            },
          },
        },
        { attachment: { type: 'template', payload: { template_type: 'button', text: 'Pick', buttons: [{ type: 'postback', title: 'A', payload: 'A' }] } } },
        { attachment: { type: 'template', payload: { template_type: 'media', elements: [{ media_type: 'image', attachment_id: attachmentId }] } } },
        {
          attachment: {
            type: 'template',
            payload: {
              template_type: 'receipt',
              recipient_name: 'Ada',
              order_number: 'o-1',
              currency: 'usd',
              payment_method: 'Visa 1234',
              summary: { total_cost: '56.14' },
              elements: [{ title: 'Shirt', price: 50 }],
              address: { street_1: '1 Way', city: 'Menlo Park', postal_code: '94025', state: 'CA', country: 'US' },
              adjustments: [{ name: 'Discount', amount: 10 }],
            },
          },
        },
        { attachment: { type: 'image', payload: { url: `${cdnUrl}/cat.png` } } },
        { text: 'Colour?', quick_replies: [{ content_type: 'text', title: 'Red', payload: 'R' }, { content_type: 'user_email' }] },
      ];
      const sock = await connectPerson(t.url, c.person.token);
      const mids: string[] = [];
      for (const message of messages) {
        const res = await send(c.pageToken, { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message });
        expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { recipient_id: c.psid, message_id: expect.stringMatching(/^m_/) } });
        mids.push(res.body.message_id);
      }
      const got = await sock.waitForCount('every template', messages.length, (e) => e.type === 'message');
      for (let i = 0; i < messages.length; i++) {
        const normalized = validateSendRequest({ recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: messages[i] });
        if (!normalized.ok) throw new Error(normalized.error.message);
        const expected: any = { ...normalized.value.message };
        // The uploaded attachment reaches the person as a URL signed for them (their display variant).
        if (i === 2) expected.attachment.payload.elements[0].url = expect.stringMatching(/\/media\/\d+\/display\.webp\?exp=\d+&sig=/);
        // A plain URL is fetched and stored: the person gets our signed URLs, not the bot's.
        if (i === 4) expected.attachment.payload = { url: expect.stringMatching(/\/media\/\d+\/display\.webp\?exp=\d+&sig=/) };
        expect(got[i].message).toMatchObject({ mid: mids[i], sender: 'page', ...expected });
      }
      // Normalized as libs/templates does: currency upper-cased, numeric strings numbers.
      expect(got[3].message.attachment.payload).toMatchObject({ currency: 'USD', summary: { total_cost: 56.14 } });

      const echoes = await waitFor('six echoes', () => {
        const e = echoesFor(c.page.id);
        return e.length >= messages.length ? e : undefined;
      });
      expect(echoes.map((e: any) => e.message.mid)).toEqual(mids);
      expect(echoes[0].message.attachments[0]).toEqual(got[0].message.attachment);
      expect(echoes[3].message.attachments[0].payload.template_type).toBe('receipt');
      expect(echoes[5].message.quick_replies).toEqual(got[5].message.quick_replies);
      await sock.close();
    });

    it('sends an uploaded attachment id as its URL, and refuses unknown or foreign ids', async () => {
      const c = await setup();
      const other = await setup();
      const up = await api.post(`/v25.0/${c.page.id}/message_attachments`, undefined, {
        form: {
          access_token: c.pageToken,
          message: JSON.stringify({ attachment: { type: 'video', payload: { url: `${cdnUrl}/v.mp4`, is_reusable: true } } }),
        },
      });
      expect(up.status).toBe(200);
      const id = up.body.attachment_id;
      const ok = await send(c.pageToken, { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { attachment: { type: 'video', payload: { attachment_id: id } } } });
      expect(ok.status).toBe(200);
      const [row] = await t.db.query('SELECT content FROM messages WHERE mid = $1', [ok.body.message_id]);
      expect(row.content.attachment).toEqual({ type: 'video', payload: { attachment_id: id, url: expect.stringMatching(/\/media\/\d+\/original\?/), media_id: expect.stringMatching(/^\d+$/) } });

      for (const [token, psid, attId] of [
        [other.pageToken, other.psid, id],
        [c.pageToken, c.psid, '123456789'],
      ]) {
        const res = await send(token, { recipient: { id: psid }, messaging_type: 'RESPONSE', message: { attachment: { type: 'image', payload: { attachment_id: attId } } } });
        expect(res.status).toBe(400);
        expect(res.body.error).toMatchObject({ code: 100, message: `(#100) No attachment found for attachment_id ${attId}` });
      }
      const bad = await api.post(`/v25.0/me/message_attachments?access_token=${c.pageToken}`, {
        message: { attachment: { type: 'template', payload: { template_type: 'button', text: 'x', buttons: [] } } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe(100);
      const [{ n }] = await t.db.query('SELECT count(*)::int AS n FROM message_attachments WHERE page_id = $1', [c.page.id]);
      expect(n).toBe(1);
    });

    it("takes a media template URL only when it is this Page's own signed media URL (Graph: Facebook URLs only)", async () => {
      const c = await setup();
      const other = await setup();
      // The person sends a photo: the bot's webhook carries its signed URL, which the bot may send back as media.
      const photo = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#39c' } }).png().toBuffer();
      const mediaOf = async (x: typeof c) => {
        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(photo)], { type: 'image/png' }), 'p.png');
        const up = await fetch(`${t.url}/threads/${x.thread.id}/attachments`, { method: 'POST', body: form, headers: { authorization: `Bearer ${x.person.token}` } });
        expect(up.status).toBe(201);
        const { media_id } = (await up.json()) as { media_id: string };
        const sent = await api.post(`/threads/${x.thread.id}/messages`, { attachments: [{ media_id }], client_message_id: clientId() }, { token: x.person.token });
        expect(sent.status).toBe(201);
        const item = await waitFor('the photo webhook', () =>
          bot.received
            .flatMap((r) => JSON.parse(r.body.toString('utf8')).entry ?? [])
            .flatMap((e: any) => e.messaging ?? [])
            .find((m: any) => m.message?.mid === sent.body.mid),
        );
        return { mediaId: media_id, url: item.message.attachments[0].payload.url as string };
      };
      const mine = await mediaOf(c);
      const theirs = await mediaOf(other);
      const mediaTemplate = (el: Record<string, unknown>) => ({
        recipient: { id: c.psid },
        messaging_type: 'RESPONSE',
        message: { attachment: { type: 'template', payload: { template_type: 'media', elements: [{ media_type: 'image', ...el }] } } },
      });
      const [{ n: before }] = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE sender = 'page'`);

      const sock = await connectPerson(t.url, c.person.token);
      const ok = await send(c.pageToken, mediaTemplate({ url: mine.url, buttons: [{ type: 'postback', title: 'Like', payload: 'L' }] }));
      expect(ok.status).toBe(200);
      const [row] = await t.db.query('SELECT content FROM messages WHERE mid = $1', [ok.body.message_id]);
      expect(row.content.attachment.payload.elements[0]).toMatchObject({ media_id: mine.mediaId });
      const ev = await sock.waitFor('the media template', (e) => e.type === 'message' && e.message.mid === ok.body.message_id);
      const shown = ev.message.attachment.payload.elements[0];
      expect(shown).toEqual({ media_type: 'image', url: expect.stringContaining(`/media/${mine.mediaId}/display.webp?exp=`), buttons: [{ type: 'postback', title: 'Like', payload: 'L' }] });
      expect((await fetch(shown.url)).status).toBe(200);
      const echo = await waitFor('its echo', () => echoesFor(c.page.id).find((e: any) => e.message.mid === ok.body.message_id));
      expect(echo.message.attachments[0].payload.elements[0].url).toContain(`/media/${mine.mediaId}/display.jpg?exp=`);
      await sock.close();

      // A genuine signature that has expired still names the Page's media (Graph's Facebook URLs never expire).
      const signer = new MediaUrlSigner(Buffer.from(t.env.SECRETS_KEY, 'hex'), 3600);
      const expired = `${t.url}${signer.sign(mine.mediaId, 'display.jpg', Math.floor(Date.now() / 1000) - 60).path}`;
      expect((await send(c.pageToken, mediaTemplate({ url: expired }))).status).toBe(200);

      const u = new URL(mine.url);
      u.searchParams.set('sig', 'A'.repeat(43));
      const NOT_OURS = `(#100) param message[attachment][payload][elements][0][url] must be a URL of media on this platform (/media/{id}/{variant}?exp=…&sig=…, as webhooks and echoes carry); upload other media with the Attachment Upload API and send its attachment_id`;
      const refusals: [Record<string, unknown>, Record<string, unknown>][] = [
        [{ url: 'https://www.facebook.com/photo.php?fbid=1' }, { code: 100, error_subcode: 2018188, message: NOT_OURS }],
        [{ url: 'https://example.com/cat.png' }, { code: 100, error_subcode: 2018188, message: NOT_OURS }],
        [{ url: u.href }, { code: 100, error_subcode: 2018188, message: "(#100) param message[attachment][payload][elements][0][url] is not a URL of this Page's media" }],
        [{ url: theirs.url }, { code: 100, error_subcode: 2018188, message: "(#100) param message[attachment][payload][elements][0][url] is not a URL of this Page's media" }],
        [{ url: mine.url, media_type: 'video' }, { code: 100, message: '(#100) param message[attachment][payload][elements][0][url] names image media, but media_type is video' }],
      ];
      for (const [el, error] of refusals) {
        const res = await send(c.pageToken, mediaTemplate(el));
        expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: expect.objectContaining(error) });
      }
      const [{ n: after }] = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE sender = 'page'`);
      expect(after).toBe(before + 2);
    });

    it('names the exact param and rule of an invalid template, and stores nothing', async () => {
      const c = await setup();
      const el = (title: string) => ({ title, subtitle: 's' });
      const cases: [Record<string, unknown>, string][] = [
        [
          { attachment: { type: 'template', payload: { template_type: 'generic', elements: [el('a'), el('b'), el('c'), el('x'.repeat(81))] } } },
          '(#100) param message[attachment][payload][elements][3][title] must be at most 80 characters',
        ],
        [
          { attachment: { type: 'template', payload: { template_type: 'generic', elements: Array.from({ length: 11 }, () => el('a')) } } },
          '(#100) param message[attachment][payload][elements] must have at most 10 items',
        ],
        [
          { attachment: { type: 'template', payload: { template_type: 'button', text: 'x', buttons: [{ type: 'postback', title: 'x'.repeat(21), payload: 'P' }] } } },
          '(#100) param message[attachment][payload][buttons][0][title] must be at most 20 characters',
        ],
        [{ text: 'x'.repeat(2000) }, '(#100) param message[text] must be fewer than 2000 characters'],
        [
          { text: 'q', quick_replies: Array.from({ length: 14 }, (_, i) => ({ content_type: 'text', title: `t${i}`, payload: 'p' })) },
          '(#100) param message[quick_replies] must have at most 13 items',
        ],
      ];
      const [{ n: before }] = await t.db.query('SELECT count(*)::int AS n FROM messages');
      for (const [message, expected] of cases) {
        const res = await send(c.pageToken, { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message });
        expect({ status: res.status, message: res.body.error?.message, code: res.body.error?.code }).toEqual({ status: 400, message: expected, code: 100 });
      }
      const [{ n: after }] = await t.db.query('SELECT count(*)::int AS n FROM messages');
      expect(after).toBe(before);
    });
  });

  describe('reply_to and notification_type', () => {
    it('stores both with the message: the person sees the reply and how to notify, the echo carries reply_to', async () => {
      const c = await setup();
      const asked = await personSays(api, c.person, c.thread.id, 'Is it open on Sunday?');
      const sock = await connectPerson(t.url, c.person.token);
      const answer = await send(c.pageToken, {
        recipient: { id: c.psid },
        messaging_type: 'RESPONSE',
        message: { text: 'Yes, 10 to 4', reply_to: { mid: asked.mid } },
        notification_type: 'SILENT_PUSH',
      });
      expect(answer.status).toBe(200);
      // A reply to the Page's own message, with reply_to at the top level; no notification_type: REGULAR.
      const followUp = await send(c.pageToken, { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'And 9 to 5 on weekdays' }, reply_to: { mid: answer.body.message_id } });
      expect(followUp.status).toBe(200);

      const [e1, e2] = await sock.waitForCount('both replies', 2, (e) => e.type === 'message');
      expect(e1.message).toMatchObject({ mid: answer.body.message_id, text: 'Yes, 10 to 4', reply_to: { mid: asked.mid }, notification_type: 'SILENT_PUSH' });
      expect(e2.message).toMatchObject({ mid: followUp.body.message_id, reply_to: { mid: answer.body.message_id } });
      expect(e2.message).not.toHaveProperty('notification_type');
      await sock.close();
      const listed = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
      expect(listed.body.data.find((m: any) => m.mid === answer.body.message_id)).toMatchObject({ reply_to: { mid: asked.mid }, notification_type: 'SILENT_PUSH' });

      const echoes = await waitFor('two echoes', () => {
        const e = echoesFor(c.page.id);
        return e.length >= 2 ? e : undefined;
      });
      expect(echoes[0].message).toMatchObject({ mid: answer.body.message_id, text: 'Yes, 10 to 4', reply_to: { mid: asked.mid } });
      expect(echoes[0].message).not.toHaveProperty('notification_type');
      expect(echoes[1].message.reply_to).toEqual({ mid: answer.body.message_id });
    });

    it("refuses a reply_to that is not a message of this conversation, and stores nothing", async () => {
      const c = await setup();
      const other = await setup();
      const elsewhere = await personSays(api, other.person, other.thread.id, 'not yours');
      const [{ n: before }] = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE thread_id = $1`, [c.thread.id]);
      const cases: [Record<string, unknown>, string][] = [
        [{ message: { text: 'x', reply_to: { mid: elsewhere.mid } } }, '(#100) param message[reply_to][mid] must be the mid of a message in this conversation'],
        [{ message: { text: 'x' }, reply_to: { mid: 'm_unknown' } }, '(#100) param reply_to[mid] must be the mid of a message in this conversation'],
        [{ message: { text: 'x' }, reply_to: { mid: 'm_'.padEnd(100, 'x') } }, '(#100) param reply_to[mid] must be the mid of a message in this conversation'],
        [{ message: { text: 'x' }, reply_to: { mid: '' } }, '(#100) param reply_to[mid] must not be empty'],
        [{ message: { text: 'x' }, notification_type: 'LOUD' }, '(#100) param notification_type must be one of [REGULAR, SILENT_PUSH, NO_PUSH]'],
      ];
      for (const [extra, message] of cases) {
        const res = await send(c.pageToken, { recipient: { id: c.psid }, messaging_type: 'RESPONSE', ...extra });
        expect({ status: res.status, code: res.body.error?.code, message: res.body.error?.message }).toEqual({ status: 400, code: 100, message });
      }
      const [{ n: after }] = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE thread_id = $1`, [c.thread.id]);
      expect(after).toBe(before);
    });
  });

  // PHP's http_build_query (Facebook's PHP SDK, pimax/fb-messenger-php) and qs-based clients send nested params as
  // `recipient[id]=…&message[quick_replies][0][title]=…`; pimax posts that under Content-Type: application/json.
  describe('form bodies with bracketed params', () => {
    const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

    it('reads recipient[id], message[…] and list indexes as nested params, whatever the declared type', async () => {
      const c = await setup();
      const body = form({
        'recipient[id]': c.psid,
        messaging_type: 'RESPONSE',
        'message[text]': 'Pick a colour',
        'message[quick_replies][0][content_type]': 'text',
        'message[quick_replies][0][title]': 'Red',
        'message[quick_replies][0][payload]': 'RED',
        'message[quick_replies][1][content_type]': 'user_email',
        'message[metadata]': 'php',
        access_token: c.pageToken,
      });
      const sent: string[] = [];
      for (const contentType of ['application/x-www-form-urlencoded', 'application/json']) {
        const res = await api.post('/v25.0/me/messages', undefined, { raw: body, headers: { 'content-type': contentType } });
        expect({ contentType, status: res.status, body: res.body }).toEqual({
          contentType,
          status: 200,
          body: { recipient_id: c.psid, message_id: expect.stringMatching(/^m_/) },
        });
        sent.push(res.body.message_id);
      }
      const echoes = await waitFor('the echoes', () => {
        const e = echoesFor(c.page.id).filter((m: any) => sent.includes(m.message.mid));
        return e.length === sent.length ? e : undefined;
      });
      for (const echo of echoes) {
        expect(echo.message).toMatchObject({
          text: 'Pick a colour',
          metadata: 'php',
          quick_replies: [{ content_type: 'text', title: 'Red', payload: 'RED' }, { content_type: 'user_email' }],
        });
      }

      // The Messenger Profile as pimax sets and deletes it: get_started[payload], fields[0].
      const profile = `/v25.0/me/messenger_profile`;
      const set = await api.post(profile, undefined, {
        raw: form({ 'get_started[payload]': 'GO', access_token: c.pageToken }),
        headers: { 'content-type': 'application/json' },
      });
      expect({ status: set.status, body: set.body }).toEqual({ status: 200, body: { result: 'success' } });
      expect((await api.get(`${profile}?fields=get_started&access_token=${c.pageToken}`)).body).toEqual({ data: [{ get_started: { payload: 'GO' } }] });
      const removed = await api.call('DELETE', profile, undefined, {
        raw: form({ 'fields[0]': 'get_started', access_token: c.pageToken }),
        headers: { 'content-type': 'application/json' },
      });
      expect({ status: removed.status, body: removed.body }).toEqual({ status: 200, body: { result: 'success' } });
      expect((await api.get(`${profile}?fields=get_started&access_token=${c.pageToken}`)).body).toEqual({ data: [] });
    });

    it('still refuses malformed JSON, and bracketed names that are not params', async () => {
      const c = await setup();
      const broken = await api.post(`/v25.0/me/messages?access_token=${c.pageToken}`, undefined, {
        raw: '{"recipient":',
        headers: { 'content-type': 'application/json' },
      });
      expect({ status: broken.status, code: broken.body.error?.code }).toEqual({ status: 400, code: 100 });
      for (const [key, message] of [
        ['recipient[id][__proto__][x]', '(#100) param recipient[id] must be a string'],
        ['message[nope]', '(#100) param message[nope] is not a known field'],
        // The guard reads transport params flat: a bracketed one is refused, never a proof nobody checked.
        ['appsecret_proof[]', '(#100) param appsecret_proof[] is not a known field'],
        ['access_token[x]', '(#100) param access_token[x] is not a known field'],
      ]) {
        const res = await api.post(`/v25.0/me/messages?access_token=${c.pageToken}`, undefined, {
          form: { 'recipient[id]': c.psid, messaging_type: 'RESPONSE', 'message[text]': 'x', [key]: 'y' },
        });
        expect({ key, status: res.status, message: res.body.error?.message }).toEqual({ key, status: 400, message });
      }
    });
  });

  describe('messaging window', () => {
    const refused = { status: 400, code: 10, subcode: 2018278, message: '(#10) This message is sent outside of allowed window.' };
    const outcome = (res: any) =>
      res.status === 200
        ? { status: 200 }
        : { status: res.status, code: res.body.error.code, subcode: res.body.error.error_subcode, message: res.body.error.message };

    it('allows RESPONSE and UPDATE within 24 h, only allowed tags after, and nothing after 7 days', async () => {
      const c = await setup();
      const msg = (extra: Record<string, unknown>) => send(c.pageToken, { recipient: { id: c.psid }, message: { text: 'x' }, ...extra });
      expect(outcome(await msg({ messaging_type: 'RESPONSE' }))).toEqual({ status: 200 });
      expect(outcome(await msg({ messaging_type: 'UPDATE' }))).toEqual({ status: 200 });

      await backdate(c.thread.id, 25 * HOUR);
      expect(outcome(await msg({ messaging_type: 'RESPONSE' }))).toEqual(refused);
      expect(outcome(await msg({ messaging_type: 'UPDATE' }))).toEqual(refused);
      expect(outcome(await send(c.pageToken, { recipient: { id: c.psid }, sender_action: 'typing_on' }))).toEqual(refused);
      expect(outcome(await msg({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' }))).toEqual({ status: 200 });
      expect(outcome(await msg({ messaging_type: 'MESSAGE_TAG', tag: 'CUSTOMER_FEEDBACK' }))).toEqual({ status: 200 });
      const deprecated = await msg({ messaging_type: 'MESSAGE_TAG', tag: 'ACCOUNT_UPDATE' });
      expect(deprecated.status).toBe(400);
      expect(deprecated.body.error.code).toBe(100);

      await backdate(c.thread.id, 8 * 24 * HOUR);
      expect(outcome(await msg({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' }))).toEqual(refused);
      expect(outcome(await msg({ messaging_type: 'MESSAGE_TAG', tag: 'CUSTOMER_FEEDBACK' }))).toEqual(refused);

      // The person writes again: the window opens again.
      await personSays(api, c.person, c.thread.id, 'back');
      expect(outcome(await msg({ messaging_type: 'RESPONSE' }))).toEqual({ status: 200 });
    });

    // A thread the process has sent to is not looked up again: the write itself checks the window.
    it('refuses on a thread it already sent to as before: nothing written, the window reported before the content', async () => {
      const c = await setup();
      const to = { id: c.psid };
      expect(outcome(await send(c.pageToken, { recipient: to, messaging_type: 'RESPONSE', message: { text: 'first' } }))).toEqual({ status: 200 });
      await backdate(c.thread.id, 25 * HOUR);
      const late = await send(c.pageToken, { recipient: to, messaging_type: 'RESPONSE', message: { text: 'late' } }, { 'idempotency-key': 'late-1' });
      expect(outcome(late)).toEqual(refused);
      // An unknown attachment id too is refused for the window first, as on a first send.
      const unknown = { attachment: { type: 'image', payload: { attachment_id: '999999999' } } };
      expect(outcome(await send(c.pageToken, { recipient: to, messaging_type: 'RESPONSE', message: unknown }))).toEqual(refused);
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE thread_id = $1 AND sender = 'page'`, [c.thread.id]);
      expect(n).toBe(1);
      expect(await t.db.query(`SELECT 1 FROM send_idempotency_keys WHERE page_id = $1 AND key = 'late-1'`, [c.page.id])).toHaveLength(0);

      // Once the person writes again the same key sends, and a repeat answers it.
      await personSays(api, c.person, c.thread.id, 'back');
      const sent = await send(c.pageToken, { recipient: to, messaging_type: 'RESPONSE', message: { text: 'late' } }, { 'idempotency-key': 'late-1' });
      expect(outcome(sent)).toEqual({ status: 200 });
      const again = await send(c.pageToken, { recipient: to, messaging_type: 'RESPONSE', message: { text: 'late' } }, { 'idempotency-key': 'late-1' });
      expect(again.body).toEqual(sent.body);
      expect(again.headers['idempotent-replayed']).toBe('true');
    });

    it('refuses a thread whose person never wrote, and a postback opens the window', async () => {
      const c = await conversation(api);
      const [row] = await t.db.query('SELECT psid FROM threads WHERE id = $1', [c.thread.id]);
      const first = await send(c.pageToken, { recipient: { id: row.psid }, messaging_type: 'RESPONSE', message: { text: 'hi' } });
      expect(outcome(first)).toEqual(refused);
      const pb = await api.post(`/threads/${c.thread.id}/postbacks`, await offerGetStarted(api, c.pageToken, 'GS'), { token: c.person.token });
      expect(pb.status).toBe(201);
      const second = await send(c.pageToken, { recipient: { id: row.psid }, messaging_type: 'RESPONSE', message: { text: 'hi' } });
      expect(outcome(second)).toEqual({ status: 200 });
    });
  });

  describe('Idempotency-Key', () => {
    it('answers a repeat with the first answer and sends nothing new', async () => {
      const c = await setup();
      const sock = await connectPerson(t.url, c.person.token);
      const body = { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'once' } };
      const a = await send(c.pageToken, body, { 'idempotency-key': 'order-42' });
      const b = await send(c.pageToken, body, { 'idempotency-key': 'order-42' });
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      expect(b.body).toEqual(a.body);
      expect(b.headers['idempotent-replayed']).toBe('true');
      const other = await send(c.pageToken, body, { 'idempotency-key': 'order-43' });
      expect(other.body.message_id).not.toBe(a.body.message_id);
      await sock.waitForCount('two messages', 2, (e) => e.type === 'message');
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE thread_id = $1 AND sender = 'page'`, [c.thread.id]);
      expect(n).toBe(2);
      expect(sock.events.filter((e) => e.type === 'message').map((e) => e.message.mid)).toEqual([a.body.message_id, other.body.message_id]);

      // Another Page's key space is its own.
      const d = await setup();
      const elsewhere = await send(d.pageToken, { ...body, recipient: { id: d.psid } }, { 'idempotency-key': 'order-42' });
      expect(elsewhere.status).toBe(200);
      expect(elsewhere.body.message_id).not.toBe(a.body.message_id);
      await sock.close();
    });

    it('sends once when duplicates race', async () => {
      const c = await setup();
      const body = { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'race' } };
      const all = await Promise.all(Array.from({ length: 12 }, () => send(c.pageToken, body, { 'idempotency-key': 'race-1' })));
      expect(all.map((r) => r.status)).toEqual(Array(12).fill(200));
      expect(new Set(all.map((r) => r.body.message_id)).size).toBe(1);
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE thread_id = $1 AND sender = 'page'`, [c.thread.id]);
      expect(n).toBe(1);
      const [{ e }] = await t.db.query(`SELECT count(*)::int AS e FROM webhook_events WHERE page_id = $1 AND field = 'message_echoes'`, [c.page.id]);
      expect(e).toBe(1);
    });

    // A send with a key is one transaction; anything it asks the pool for while holding its connection (once: a
    // cache miss) waits for a connection the other sends hold, and a full pool answered 503 after its connect
    // timeout. A process with a 2-connection pool and a burst on a Page it has never seen makes that certain.
    it('answers a burst larger than the pool on a Page the process has not seen yet', async () => {
      const narrow = await t.spawnSibling('api', { DATABASE_POOL_SIZE: '2' });
      const c = await setup();
      const burst = (key: (i: number) => string) =>
        Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            httpClient(narrow.url).post(
              `/v25.0/me/messages?access_token=${encodeURIComponent(c.pageToken)}`,
              { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: `burst ${i}` } },
              { headers: { 'idempotency-key': key(i) } },
            ),
          ),
        );
      const distinct = await burst((i) => `burst-${i}`);
      expect(distinct.map((r) => r.status)).toEqual(Array(8).fill(200));
      expect(new Set(distinct.map((r) => r.body.message_id)).size).toBe(8);
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE thread_id = $1 AND sender = 'page'`, [c.thread.id]);
      expect(n).toBe(8);
      await narrow.stop();
    });
  });

  describe('appsecret_proof', () => {
    it('is checked when present on any Graph route, and required when the app says so', async () => {
      const c = await setup();
      const body = { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'p' } };
      const right = proofOf(c.app.secret, c.pageToken);
      const ok = await api.post(`/v25.0/me/messages?access_token=${c.pageToken}&appsecret_proof=${right}`, body);
      expect(ok.status).toBe(200);
      const inBody = await api.post('/v25.0/me/messages', { ...body, access_token: c.pageToken, appsecret_proof: right });
      expect(inBody.status).toBe(200);

      const wrongProof = { message: 'Invalid appsecret_proof provided in the API argument', type: 'GraphMethodException', code: 100 };
      const wrong = await api.post(`/v25.0/me/messages?access_token=${c.pageToken}&appsecret_proof=${proofOf('nope', c.pageToken)}`, body);
      expect(wrong.status).toBe(400);
      expect(wrong.body.error).toMatchObject(wrongProof);
      const elsewhere = await api.get(`/v25.0/me/subscribed_apps?access_token=${c.pageToken}&appsecret_proof=abc`);
      expect(elsewhere.body.error).toMatchObject(wrongProof);
      const appToken = await api.get(`/v25.0/${c.app.id}/subscriptions?access_token=${encodeURIComponent(c.app.token)}&appsecret_proof=${right}`);
      expect(appToken.body.error).toMatchObject(wrongProof);

      const patch = await api.patch(`/apps/${c.app.id}`, { require_appsecret_proof: true }, { token: c.owner.token });
      expect(patch.status).toBe(200);
      const missing = await send(c.pageToken, body);
      expect(missing.status).toBe(400);
      expect(missing.body.error).toMatchObject({ message: 'API calls from the server require an appsecret_proof argument', type: 'GraphMethodException', code: 100 });
      const profile = await api.get(`/v25.0/${c.psid}?access_token=${c.pageToken}`);
      expect(profile.body.error.message).toBe('API calls from the server require an appsecret_proof argument');
      expect((await api.post(`/v25.0/me/messages?access_token=${c.pageToken}&appsecret_proof=${right}`, body)).status).toBe(200);

      // With appsecret_time the proof covers `token|time`, and a time more than five minutes off is refused.
      const now = Math.floor(Date.now() / 1000);
      const timed = (time: number, secret = c.app.secret) =>
        `access_token=${c.pageToken}&appsecret_time=${time}&appsecret_proof=${proofOf(secret, `${c.pageToken}|${time}`)}`;
      expect((await api.post(`/v25.0/me/messages?${timed(now)}`, body)).status).toBe(200);
      expect((await api.post('/v25.0/me/messages', { ...body, access_token: c.pageToken, appsecret_time: String(now), appsecret_proof: proofOf(c.app.secret, `${c.pageToken}|${now}`) })).status).toBe(200);
      expect((await api.post(`/v25.0/me/messages?${timed(now - 3600)}`, body)).body.error).toMatchObject(wrongProof);
      expect((await api.post(`/v25.0/me/messages?${timed(now, 'nope')}`, body)).body.error).toMatchObject(wrongProof);
      // The untimed proof does not stand for a timed one.
      expect((await api.post(`/v25.0/me/messages?access_token=${c.pageToken}&appsecret_time=${now}&appsecret_proof=${right}`, body)).body.error).toMatchObject(wrongProof);

      // After a rotation both live secrets make a valid proof.
      const rotated = await api.post(`/apps/${c.app.id}/secret/rotate`, undefined, { token: c.owner.token });
      expect(rotated.status).toBeLessThan(300);
      bot.secrets.push(rotated.body.secret);
      const fresh = proofOf(rotated.body.secret, c.pageToken);
      expect((await api.post(`/v25.0/me/messages?access_token=${c.pageToken}&appsecret_proof=${fresh}`, body)).status).toBe(200);
      expect((await api.post(`/v25.0/me/messages?access_token=${c.pageToken}&appsecret_proof=${right}`, body)).status).toBe(200);
    });
  });

  describe('Messenger Profile', () => {
    it('sets, reads and deletes properties; the person sees the greeting, Get Started, menu and ice breakers', async () => {
      const c = await setup('Grace Hopper');
      const url = `/v25.0/me/messenger_profile?access_token=${c.pageToken}`;
      const menu = [{ locale: 'default', call_to_actions: [{ type: 'postback', title: 'Help', payload: 'HELP' }] }];

      const early = await api.post(url, { persistent_menu: menu });
      expect(early.status).toBe(400);
      expect(early.body.error.message).toBe('(#100) param persistent_menu requires get_started to be set (in this request or already on the Page)');

      const set = await api.post(url, {
        get_started: { payload: 'GET_STARTED' },
        greeting: [
          { locale: 'default', text: 'Hello {{user_first_name}}!' },
          { locale: 'fr_FR', text: 'Bonjour {{user_full_name}}' },
        ],
        ice_breakers: [{ question: 'Where are you?', payload: 'WHERE' }],
        whitelisted_domains: ['https://shop.example.com'],
      });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({ result: 'success' });
      expect((await api.post(url, { persistent_menu: menu })).body).toEqual({ result: 'success' });

      const got = await api.get(`${url}&fields=get_started,persistent_menu,whitelisted_domains`);
      expect(got.body).toEqual({
        data: [{ get_started: { payload: 'GET_STARTED' }, persistent_menu: menu, whitelisted_domains: ['https://shop.example.com'] }],
      });
      const unknown = await api.get(`${url}&fields=get_started,favourite_colour`);
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.code).toBe(100);

      // A new person opening a thread sees it all, with their name in the greeting.
      const newcomer = await signupPerson(api, 'Grace Hopper');
      const thread = await openThread(api, newcomer, c.page.id);
      const view = await api.get(`/pages/${c.page.id}/profile`, { token: newcomer.token });
      expect(view.status).toBe(200);
      expect(view.body).toMatchObject({
        page_id: c.page.id,
        greeting: 'Hello Grace!',
        get_started: { title: 'Get Started', payload: 'GET_STARTED' },
        persistent_menu: { composer_input_disabled: false, call_to_actions: menu[0].call_to_actions },
        ice_breakers: [{ question: 'Where are you?', payload: 'WHERE' }],
      });
      const fr = await api.get(`/pages/${c.page.id}/profile?locale=fr_FR`, { token: newcomer.token });
      expect(fr.body.greeting).toBe('Bonjour Grace Hopper');

      // Tapping Get Started posts its payload: the bot gets messaging_postbacks.
      const tap = await api.post(`/threads/${thread.id}/postbacks`, view.body.get_started, { token: newcomer.token });
      expect(tap.status).toBe(201);
      await waitFor('the get_started postback', () =>
        bot.received.some((r) => {
          const m = JSON.parse(r.body.toString()).entry?.[0]?.messaging?.[0];
          return m?.postback?.payload === 'GET_STARTED' && m.postback.mid === tap.body.mid;
        }),
      );

      const refusedDelete = await api.call('DELETE', url, { fields: ['get_started'] });
      expect(refusedDelete.status).toBe(400);
      const del = await api.call('DELETE', url, { fields: ['get_started', 'persistent_menu', 'greeting'] });
      expect(del.body).toEqual({ result: 'success' });
      const after = await api.get(`${url}&fields=get_started,greeting,ice_breakers`);
      expect(after.body).toEqual({ data: [{ ice_breakers: [{ locale: 'default', call_to_actions: [{ question: 'Where are you?', payload: 'WHERE' }] }] }] });
      const bare = await api.get(`/pages/${c.page.id}/profile`, { token: newcomer.token });
      expect(bare.body).toMatchObject({ greeting: null, get_started: null, persistent_menu: null });
    });
  });

  describe('Messenger Profile: Graph properties never set here', () => {
    // Graph's properties Switchboard can't set are never set: read as absent and deleted as nothing, as Graph answers
    // for a property a Page hasn't set (Bottender's getAccountLinkingURL and deleteAccountLinkingURL), though setting
    // them is refused.
    it('reads account_linking_url and commands as not set, and deletes them as nothing', async () => {
      const c = await setup();
      const url = `/v25.0/me/messenger_profile?access_token=${c.pageToken}`;
      expect((await api.post(url, { get_started: { payload: 'GET_STARTED' } })).body).toEqual({ result: 'success' });
      const neverSet = await api.get(`${url}&fields=get_started,account_linking_url,commands`);
      expect({ status: neverSet.status, body: neverSet.body }).toEqual({ status: 200, body: { data: [{ get_started: { payload: 'GET_STARTED' } }] } });
      expect((await api.get(`${url}&fields=account_linking_url`)).body).toEqual({ data: [] });
      const noop = await api.call('DELETE', url, { fields: ['account_linking_url', 'commands'] });
      expect({ status: noop.status, body: noop.body }).toEqual({ status: 200, body: { result: 'success' } });
      const refused = await api.post(url, { account_linking_url: 'https://shop.example.com/login' });
      expect({ status: refused.status, message: refused.body.error?.message }).toEqual({ status: 400, message: '(#100) param account_linking_url is not supported by Switchboard' });
      expect((await api.get(`${url}&fields=get_started`)).body).toEqual({ data: [{ get_started: { payload: 'GET_STARTED' } }] });
    });
  });

  describe('suppress_http_code', () => {
    // Graph's suppress_http_code=1 (the JavaScript SDK and Graph Explorer's code send it): an error is still its
    // {error} body, answered with HTTP 200; the caller reads the body.
    it('answers errors with HTTP 200 and the same body when the call asks, in the query or the body', async () => {
      const c = await setup();
      const restricted = `/v25.0/${c.psid}?fields=gender&access_token=${c.pageToken}`;
      const plain = await api.get(restricted);
      expect(plain.status).toBe(400);
      const suppressed = await api.get(`${restricted}&suppress_http_code=1`);
      expect({ status: suppressed.status, error: suppressed.body.error }).toEqual({ status: 200, error: { ...plain.body.error, fbtrace_id: expect.any(String) } });
      expect((await api.get(`${restricted}&suppress_http_code=0`)).status).toBe(400);
      // The guard's refusal and an unknown path too.
      const badToken = await api.get('/v25.0/me?access_token=nope&method=get&pretty=0&suppress_http_code=1');
      expect({ status: badToken.status, code: badToken.body.error?.code }).toEqual({ status: 200, code: 190 });
      const nowhere = await api.get(`/v25.0/me/nowhere?access_token=${c.pageToken}&suppress_http_code=1`);
      expect({ status: nowhere.status, code: nowhere.body.error?.code }).toEqual({ status: 200, code: 100 });
      // In a form body, as the JavaScript SDK posts it; a Send API refusal keeps its body.
      const refused = await api.post('/v25.0/me/messages', undefined, {
        form: { access_token: c.pageToken, suppress_http_code: '1', recipient: JSON.stringify({ id: c.psid }), messaging_type: 'RESPONSE', message: '{"text":""}' },
      });
      expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 200, code: 100 });
      const sent = await api.post(`/v25.0/me/messages?access_token=${c.pageToken}&suppress_http_code=1`, { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'hi' } });
      expect({ status: sent.status, body: sent.body }).toEqual({ status: 200, body: { recipient_id: c.psid, message_id: expect.stringMatching(/^m_/) } });
      // Not a Graph route: the person's API keeps its statuses.
      expect((await api.get('/me?suppress_http_code=1')).status).toBe(401);
    });
  });

  describe('User Profile', () => {
    it('answers for people who messaged the Page only', async () => {
      const c = await setup('Ada King Lovelace');
      const res = await api.get(`/v25.0/${c.psid}?fields=first_name,last_name,name,profile_pic&access_token=${c.pageToken}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        first_name: 'Ada',
        last_name: 'King Lovelace',
        name: 'Ada King Lovelace',
        profile_pic: expect.stringMatching(new RegExp(`^${t.url}/avatars/${c.page.id}/${c.psid}\\?exp=\\d+&sig=[\\w-]+$`)),
        id: c.psid,
      });
      // profile_pic is a signed, expiring URL to the person's avatar: their initials, the same on every call.
      const pic = await fetch(res.body.profile_pic);
      expect(pic.status).toBe(200);
      expect(pic.headers.get('content-type')).toBe('image/svg+xml');
      expect(pic.headers.get('x-content-type-options')).toBe('nosniff');
      const svg = await pic.text();
      expect(svg).toMatch(/^<svg [^>]*>.*>AL<\/text><\/svg>$/);
      const again = await api.get(`/v25.0/${c.psid}?fields=profile_pic&access_token=${c.pageToken}`);
      expect(await (await fetch(again.body.profile_pic)).text()).toBe(svg);
      // Forged, expired or malformed URLs open nothing.
      const forged = new URL(res.body.profile_pic);
      forged.searchParams.set('sig', 'A'.repeat(43));
      const f = await fetch(forged);
      expect(f.status).toBe(403);
      expect(((await f.json()) as any).code).toBe('AVATAR.URL_FORGED');
      const signer = new AvatarUrlSigner(Buffer.from(t.env.SECRETS_KEY, 'hex'), 3600);
      const e = await fetch(`${t.url}${signer.sign(c.page.id, c.psid, Math.floor(Date.now() / 1000) - 1)}`);
      expect(e.status).toBe(403);
      expect(((await e.json()) as any).code).toBe('AVATAR.URL_EXPIRED');
      // The platform's key, a future expiry: the refusals above are the signature and the expiry alone.
      expect((await fetch(`${t.url}${signer.sign(c.page.id, c.psid)}`)).status).toBe(200);
      expect((await fetch(`${t.url}/avatars/${c.page.id}/${c.psid}?exp=soon&sig=x`)).status).toBe(400);
      // A signed URL for a PSID the Page does not have.
      expect((await fetch(`${t.url}${signer.sign(c.page.id, '1234567890123456')}`)).status).toBe(404);

      // The same person is unknown to a Page they never talked to.
      const page2 = await createPage(api, c.owner, 'Other');
      const token2 = await connectApp(api, c.owner, page2.id, c.app.id);
      const other = await api.get(`/v25.0/${c.psid}?fields=first_name&access_token=${token2}`);
      expect(other.status).toBe(400);
      expect(other.body.error).toMatchObject({ code: 100, error_subcode: 2018218, message: '(#100) No profile available for this user.' });
      const bogus = await api.get(`/v25.0/${c.psid}?fields=first_name,favourite_colour&access_token=${c.pageToken}`);
      expect(bogus.body.error).toMatchObject({ code: 100, message: '(#100) Tried accessing nonexisting field (favourite_colour) on node type (User)' });
      // locale, timezone and gender exist on Graph but need permissions (pages_user_locale, …) a Page's app is not
      // granted here: Graph's own refusal, which bots asking for them (fbmessenger's and pimax's default fields) handle.
      for (const fields of ['gender', 'first_name,last_name,profile_pic,locale,timezone,gender', 'timezone']) {
        const restricted = await api.get(`/v25.0/${c.psid}?fields=${fields}&access_token=${c.pageToken}`);
        expect({ status: restricted.status, error: restricted.body.error }).toEqual({
          status: 400,
          error: {
            message: '(#100) Insufficient permission to access user profile.',
            type: 'OAuthException',
            code: 100,
            error_subcode: 2018247,
            fbtrace_id: expect.any(String),
          },
        });
      }
    });

    it('reads the Page itself at /me or its own id, as bots do at start', async () => {
      const c = await setup();
      const me = await api.get(`/v25.0/me?access_token=${c.pageToken}`);
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ name: c.page.name, id: c.page.id });
      // The token also comes in the Authorization header, as Bearer or Graph's older OAuth scheme.
      for (const scheme of ['Bearer', 'OAuth', 'oauth']) {
        const viaHeader = await api.get('/v25.0/me', { headers: { authorization: `${scheme} ${c.pageToken}` } });
        expect(viaHeader.body).toEqual({ name: c.page.name, id: c.page.id });
      }
      expect((await api.get('/v25.0/me', { headers: { authorization: `Basic ${c.pageToken}` } })).status).toBe(401);
      // Unversioned, as Graph takes it: the default version answers (a bare `/me` is the person's own REST route).
      expect((await api.get(`/${c.page.id}?access_token=${c.pageToken}`)).body).toEqual({ name: c.page.name, id: c.page.id });
      const unversioned = await api.post(`/me/messages?access_token=${c.pageToken}`, { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'no version' } });
      expect(unversioned.status).toBe(200);
      expect(unversioned.body).toEqual({ recipient_id: c.psid, message_id: expect.stringMatching(/^m_/) });
      const refused = await api.post(`/${c.page.id}/messages?access_token=${c.pageToken}`, { recipient: { id: c.psid } });
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe(100);
      const byId = await api.get(`/v25.0/${c.page.id}?fields=id,name&access_token=${c.pageToken}`);
      expect(byId.body).toEqual({ id: c.page.id, name: c.page.name });
      const bogus = await api.get(`/v25.0/me?fields=name,fan_count&access_token=${c.pageToken}`);
      expect(bogus.status).toBe(400);
      expect(bogus.body.error).toMatchObject({ code: 100, message: '(#100) Tried accessing nonexisting field (fan_count) on node type (Page)' });
      // Another Page's id is not this token's node.
      const other = await createPage(api, c.owner, 'Elsewhere');
      const elsewhere = await api.get(`/v25.0/${other.id}?access_token=${c.pageToken}`);
      expect(elsewhere.status).toBe(400);
      expect(elsewhere.body.error).toMatchObject({ error_subcode: 2018218 });
    });
  });
});
