import { createHash, createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import sharp from 'sharp';
import { Client } from 'undici';
import { MediaUrlSigner } from '../../src/media/media-url-signer';
import { mp4WithDuration } from '../../src/media/processing/testing/media-fixtures';
import { syntheticPhoneJpeg } from '../../src/media/processing/testing/synthetic-photo';
import { BotReceiver, startBotReceiver } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TEST_ADMIN_TOKEN, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { clientId, conversation, pageSays } from '../factories/messaging.factory';

// Media through the real platform: a person's upload → message → the bot's webhook carries a signed URL;
// serving (ETag/304, Range/206/416, 403 for expired or forged URLs); every refusal; a bot's URL and file uploads.
describe('media: attachments end to end', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let bot: BotReceiver;
  let photo: Buffer;
  let mediaRoot: string;

  beforeAll(async () => {
    // Loopback allow-listed (the bot receiver, the test's image host); every other private address is refused by the
    // SSRF-safe client.
    t = await startTestPlatform({ env: { OUTBOUND_ALLOWLIST: '127.0.0.0/8', WEBHOOK_RECONCILE_INTERVAL_MS: '500' } });
    api = httpClient(t.url);
    bot = await startBotReceiver('verify-me');
    mediaRoot = path.join(t.dataDir, 'media');
    // A 12 MP phone photo carrying EXIF with GPS.
    photo = await sharp(await syntheticPhoneJpeg({ seed: 7 }))
      .withExifMerge({
        IFD0: { Make: 'PhoneCo', Model: 'P12' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 4000/100' },
      })
      .jpeg({ quality: 93 })
      .toBuffer();
  });
  afterAll(async () => {
    await bot?.close();
    await t?.close();
  });

  async function upload(threadId: string, token: string, bytes: Buffer, type: string, name = 'upload.bin') {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type }), name);
    const res = await fetch(`${t.url}/threads/${threadId}/attachments`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers });
  const tempFiles = () => fs.readdirSync(path.join(mediaRoot, '.tmp')).filter((n) => !n.startsWith('.'));

  async function setup() {
    const c = await conversation(api, bot);
    bot.secrets.push(c.app.secret);
    return c;
  }

  function webhookMessages(pageId: string): any[] {
    const out: any[] = [];
    for (const r of bot.received) {
      // A delivery may batch several entries (one per event).
      const body = JSON.parse(r.body.toString('utf8'));
      for (const entry of body.entry ?? []) if (entry.id === pageId) out.push(...entry.messaging);
    }
    return out;
  }

  it('takes a Send API call as multipart, as Graph does: fields alone, or a file in filedata that the message then carries', async () => {
    const c = await setup();
    const hello = await api.post(`/threads/${c.thread.id}/messages`, { text: 'hi', client_message_id: clientId() }, { token: c.person.token });
    const psid = (await waitFor('the webhook', () => webhookMessages(c.page.id).find((m) => m.message?.mid === hello.body.mid))).sender.id as string;
    const send = async (form: FormData, headers: Record<string, string> = {}) => {
      const res = await fetch(`${t.url}/v25.0/me/messages?access_token=${c.pageToken}`, { method: 'POST', body: form, headers });
      return { status: res.status, body: (await res.json()) as any };
    };

    const text = new FormData();
    text.append('recipient', JSON.stringify({ id: psid }));
    text.append('messaging_type', 'RESPONSE');
    text.append('message', JSON.stringify({ text: 'as multipart' }));
    const sent = await send(text);
    expect(sent).toEqual({ status: 200, body: { recipient_id: psid, message_id: expect.stringMatching(/^m_/) } });

    const dot = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#0a8' } }).png().toBuffer();
    const file = new FormData();
    file.append('recipient', JSON.stringify({ id: psid }));
    file.append('messaging_type', 'RESPONSE');
    file.append('message', JSON.stringify({ attachment: { type: 'image', payload: { is_reusable: true } }, metadata: 'with a file' }));
    file.append('filedata', new Blob([new Uint8Array(dot)], { type: 'image/png' }), 'dot.png');
    const withFile = await send(file, { 'idempotency-key': 'file-1' });
    // is_reusable: the answer names the attachment, as Graph's does, for the bot to send again by id.
    expect(withFile).toEqual({ status: 200, body: { recipient_id: psid, message_id: expect.stringMatching(/^m_/), attachment_id: expect.stringMatching(/^\d+$/) } });
    // A replay is answered as the first call, and its file is not stored again.
    expect(await send(file, { 'idempotency-key': 'file-1' })).toEqual(withFile);
    const list = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    const byMid = (mid: string) => list.body.data.find((m: any) => m.mid === mid);
    expect(byMid(sent.body.message_id)).toMatchObject({ sender: 'page', text: 'as multipart' });
    expect(byMid(withFile.body.message_id).attachment).toMatchObject({ type: 'image', payload: { url: expect.stringContaining('/media/') } });
    const [stored] = await t.db.query(
      `SELECT a.id, m.width, m.height FROM message_attachments a JOIN media_objects m ON m.id = a.media_id WHERE a.page_id = $1`,
      [c.page.id],
    );
    expect(stored).toEqual({ id: withFile.body.attachment_id, width: 32, height: 24 });

    // Graph's errors as for a JSON call: a missing recipient, a file without the message that types it.
    const noRecipient = new FormData();
    noRecipient.append('message', JSON.stringify({ text: 'to whom?' }));
    expect(await send(noRecipient)).toMatchObject({ status: 400, body: { error: { code: 100, message: '(#100) param recipient is required' } } });
    const untyped = new FormData();
    untyped.append('recipient', JSON.stringify({ id: psid }));
    untyped.append('messaging_type', 'RESPONSE');
    untyped.append('filedata', new Blob([new Uint8Array(dot)], { type: 'image/png' }), 'dot.png');
    expect(await send(untyped)).toMatchObject({ status: 400, body: { error: { code: 100, message: '(#100) param message is required' } } });
    // A body cut short inside its file: Graph's 400, said once.
    const whole = Buffer.from(
      '--cut\r\ncontent-disposition: form-data; name="message"\r\n\r\n{"attachment":{"type":"image","payload":{}}}\r\n' +
        '--cut\r\ncontent-disposition: form-data; name="filedata"; filename="d.png"\r\ncontent-type: image/png\r\n\r\n',
    );
    const cut = await fetch(`${t.url}/v25.0/me/message_attachments?access_token=${c.pageToken}`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=cut' },
      body: Buffer.concat([whole, dot.subarray(0, 20)]),
    });
    const cutBody = (await cut.json()) as any;
    expect([cut.status, cutBody.error.code]).toEqual([400, 100]);
    expect(cutBody.error.message).toMatch(/^\(#100\) The body is not well-formed multipart\/form-data: [^#]+$/);
    // A call the send would refuse is refused before its file is stored: nothing is left behind.
    const stranger = new FormData();
    stranger.append('recipient', JSON.stringify({ id: '1234567890123456' }));
    stranger.append('messaging_type', 'RESPONSE');
    stranger.append('message', JSON.stringify({ attachment: { type: 'image', payload: {} } }));
    stranger.append('filedata', new Blob([new Uint8Array(await sharp(dot).flip().png().toBuffer())], { type: 'image/png' }), 'other.png');
    expect(await send(stranger)).toMatchObject({ status: 400, body: { error: { code: 100, error_subcode: 2018001 } } });
    const [{ n }] = await t.db.query('SELECT count(*)::int AS n FROM message_attachments WHERE page_id = $1', [c.page.id]);
    expect(n).toBe(1);
  });

  // Graph reads the whole form, in any order. Bottender's sendImage(buffer) (messaging-api-messenger) appends
  // messaging_type and recipient after the file; the upload API may name its message after the file too.
  it('takes a multipart send whose recipient (or message) comes after the file, and still stores nothing for a refused one', async () => {
    const c = await setup();
    const hello = await api.post(`/threads/${c.thread.id}/messages`, { text: 'hi', client_message_id: clientId() }, { token: c.person.token });
    const psid = (await waitFor('the webhook', () => webhookMessages(c.page.id).find((m) => m.message?.mid === hello.body.mid))).sender.id as string;
    const post = async (edge: string, form: FormData) => {
      const res = await fetch(`${t.url}/v25.0/me/${edge}?access_token=${c.pageToken}`, { method: 'POST', body: form });
      return { status: res.status, body: (await res.json()) as any };
    };
    const dot = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#a80' } }).png().toBuffer();
    const image = (bytes: Buffer) => new Blob([new Uint8Array(bytes)], { type: 'image/png' });
    const attachments = async () => (await t.db.query('SELECT count(*)::int AS n FROM message_attachments WHERE page_id = $1', [c.page.id]))[0].n;

    const bottender = new FormData();
    bottender.append('message', JSON.stringify({ attachment: { type: 'image', payload: {} } }));
    bottender.append('filedata', image(dot), 'dot.png');
    bottender.append('messaging_type', 'UPDATE');
    bottender.append('recipient', JSON.stringify({ id: psid }));
    const sent = await post('messages', bottender);
    expect(sent).toEqual({ status: 200, body: { recipient_id: psid, message_id: expect.stringMatching(/^m_/) } });
    const list = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(list.body.data.find((m: any) => m.mid === sent.body.message_id).attachment).toMatchObject({ type: 'image', payload: { url: expect.stringContaining('/media/') } });

    const messageLast = new FormData();
    messageLast.append('filedata', image(dot), 'dot.png');
    messageLast.append('message', JSON.stringify({ attachment: { type: 'image', payload: { is_reusable: true } } }));
    expect(await post('message_attachments', messageLast)).toEqual({ status: 200, body: { attachment_id: expect.stringMatching(/^\d+$/) } });
    const before = await attachments();

    // Refused once the recipient is read: its file was only spooled, and the spool is gone.
    const stranger = new FormData();
    stranger.append('message', JSON.stringify({ attachment: { type: 'image', payload: {} } }));
    stranger.append('filedata', image(await sharp(dot).flop().png().toBuffer()), 'other.png');
    stranger.append('messaging_type', 'UPDATE');
    stranger.append('recipient', JSON.stringify({ id: '1234567890123456' }));
    expect(await post('messages', stranger)).toMatchObject({ status: 400, body: { error: { code: 100, error_subcode: 2018001 } } });
    expect(await attachments()).toBe(before);
    expect(tempFiles()).toEqual([]);
  });

  // Facebook's PHP SDK (RequestBodyMultipart) writes every param first, nested ones as http_build_query names
  // (`message[attachment][payload][is_reusable]=1`), access_token and appsecret_proof among them, then the file.
  it('takes a multipart call as Facebook\'s PHP SDK sends it: bracketed params and the token in the body, then the file', async () => {
    const c = await setup();
    const hello = await api.post(`/threads/${c.thread.id}/messages`, { text: 'hi', client_message_id: clientId() }, { token: c.person.token });
    const psid = (await waitFor('the webhook', () => webhookMessages(c.page.id).find((m) => m.message?.mid === hello.body.mid))).sender.id as string;
    const dot = await sharp({ create: { width: 12, height: 8, channels: 3, background: '#08a' } }).png().toBuffer();
    const proof = createHmac('sha256', c.app.secret).update(c.pageToken).digest('hex');
    const phpSdk = (edge: string, params: Record<string, string>, file: Buffer = dot) => {
      const boundary = '6750a1b2c3d4e';
      const fields = Object.entries(params).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
      const body = Buffer.concat([
        Buffer.from(fields.join('')),
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="filedata"; filename="dot.png"\r\nContent-Type: image/png\r\n\r\n`),
        file,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      return fetch(`${t.url}/v25.0/me/${edge}`, { method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }).then(
        async (res) => ({ status: res.status, body: (await res.json()) as any }),
      );
    };
    const attachments = async () => (await t.db.query('SELECT count(*)::int AS n FROM message_attachments WHERE page_id = $1', [c.page.id]))[0].n;
    const image = { 'message[attachment][type]': 'image', 'message[attachment][payload][is_reusable]': '1' };

    const sent = await phpSdk('messages', {
      'recipient[id]': psid,
      messaging_type: 'RESPONSE',
      ...image,
      access_token: c.pageToken,
      appsecret_proof: proof,
    });
    expect(sent).toEqual({ status: 200, body: { recipient_id: psid, message_id: expect.stringMatching(/^m_/), attachment_id: expect.stringMatching(/^\d+$/) } });
    const list = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(list.body.data.find((m: any) => m.mid === sent.body.message_id).attachment).toMatchObject({ type: 'image', payload: { url: expect.stringContaining('/media/') } });
    const uploaded = await phpSdk('message_attachments', { ...image, access_token: c.pageToken, appsecret_proof: proof });
    expect(uploaded).toEqual({ status: 200, body: { attachment_id: expect.stringMatching(/^\d+$/) } });
    const stored = await attachments();
    expect(stored).toBe(2);

    // The body's token is checked as any other: a wrong one, or a wrong proof, is refused and stores nothing.
    const other = await sharp(dot).flip().png().toBuffer();
    expect(await phpSdk('messages', { 'recipient[id]': psid, messaging_type: 'RESPONSE', ...image, access_token: 'EAAnot-a-token' }, other)).toMatchObject({
      status: 401,
      body: { error: { code: 190 } },
    });
    expect(await phpSdk('message_attachments', { ...image, access_token: c.pageToken, appsecret_proof: '0'.repeat(64) }, other)).toMatchObject({
      status: 400,
      body: { error: { code: 100 } },
    });
    // A token that comes after the file is not read: Graph's SDKs put params first, and the file is not held for it.
    // The refused body's file (4 MB here, more than the socket's buffers hold) is read to its end, not left holding
    // the connection: the next call on it is answered.
    const late = Buffer.concat([
      Buffer.from('--cut\r\ncontent-disposition: form-data; name="message"\r\n\r\n{"attachment":{"type":"image","payload":{}}}\r\n'),
      Buffer.from('--cut\r\ncontent-disposition: form-data; name="filedata"; filename="o.png"\r\ncontent-type: image/png\r\n\r\n'),
      other,
      Buffer.alloc(4 << 20, 7),
      Buffer.from(`\r\n--cut\r\ncontent-disposition: form-data; name="access_token"\r\n\r\n${c.pageToken}\r\n--cut--\r\n`),
    ]);
    const one = new Client(t.url, { pipelining: 1, bodyTimeout: 10_000, headersTimeout: 10_000 });
    try {
      const lateRes = await one.request({
        method: 'POST',
        path: '/v25.0/me/message_attachments',
        body: late,
        headers: { 'content-type': 'multipart/form-data; boundary=cut' },
      });
      expect([lateRes.statusCode, ((await lateRes.body.json()) as any).error.code]).toEqual([401, 190]);
      const next = await one.request({ method: 'GET', path: '/health' });
      await next.body.dump();
      expect(next.statusCode).toBe(200);
    } finally {
      await one.close();
    }
    expect(await attachments()).toBe(stored);
    expect(tempFiles()).toEqual([]);
  });

  it('a webhook retried later carries media URLs signed when it is sent, not when the event was recorded', async () => {
    const c = await setup();
    const dot = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#0088ff' } }).png().toBuffer();
    const up = await upload(c.thread.id, c.person.token, dot, 'image/png', 'dot.png');
    expect(up.status).toBe(201);
    const withPhoto = () =>
      bot.received.filter((r) => r.body.includes(`"recipient":{"id":"${c.page.id}"}`) && r.body.includes('"attachments"'));
    let attempts = 0;
    bot.respond = (r) => (r.body.includes('"attachments"') && ++attempts === 1 ? 500 : 200);
    try {
      const sent = await api.post(
        `/threads/${c.thread.id}/messages`,
        { attachments: [{ media_id: up.body.media_id }], client_message_id: clientId() },
        { token: c.person.token },
      );
      expect(sent.status).toBe(201);
      // The retry schedule's first delay is 5 s: long enough for the expiry (in whole seconds) to move.
      await waitFor('the retried webhook', () => withPhoto().length >= 2, { timeoutMs: 30_000 });
    } finally {
      bot.respond = () => 200;
    }
    const urls = withPhoto()
      .slice(0, 2)
      .map((r) => JSON.parse(r.body.toString('utf8')).entry[0].messaging[0].message.attachments[0].payload.url as string);
    const [first, retry] = urls.map((u) => Number(new URL(u).searchParams.get('exp')));
    expect(retry).toBeGreaterThan(first);
    expect((await get(urls[1])).status).toBe(200);
  });

  it('a person sends a photo: the bot gets a signed URL to the display variant without EXIF; the person gets thumb and full', async () => {
    const c = await setup();
    expect((await sharp(photo).metadata()).exif).toBeDefined();

    const up = await upload(c.thread.id, c.person.token, photo, 'image/jpeg', 'IMG_0001.jpg');
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ media_id: expect.any(String), type: 'image', payload: { width: 4032, height: 3024, mime: 'image/jpeg' } });
    expect(up.body.payload.thumbnail_url).toContain('/thumb.webp?');

    const sent = await api.post(
      `/threads/${c.thread.id}/messages`,
      { text: 'look', attachments: [{ media_id: up.body.media_id }], client_message_id: clientId() },
      { token: c.person.token },
    );
    expect(sent.status).toBe(201);

    const item = await waitFor('the webhook', () => webhookMessages(c.page.id).find((m) => m.message?.mid === sent.body.mid));
    expect(item.message.text).toBe('look');
    expect(item.message.attachments).toEqual([{ type: 'image', payload: { url: expect.stringMatching(/\/media\/\d+\/display\.jpg\?exp=\d+&sig=/) } }]);

    const res = await get(item.message.attachments[0].payload.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    const display = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(display).metadata();
    expect(meta.exif).toBeUndefined();
    expect(Math.max(meta.width!, meta.height!)).toBe(2048);
    expect(photo.length / display.length).toBeGreaterThanOrEqual(5);

    // The person's history: fresh signed URLs, thumbnail first.
    const list = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    const mine = list.body.data.find((m: any) => m.mid === sent.body.mid);
    expect(mine.attachments).toEqual([
      {
        type: 'image',
        payload: expect.objectContaining({ media_id: up.body.media_id, width: 4032, height: 3024, url: expect.stringContaining('/display.webp?'), thumbnail_url: expect.stringContaining('/thumb.webp?') }),
      },
    ]);
    const thumb = await get(mine.attachments[0].payload.thumbnail_url);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    const tm = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(Math.max(tm.width!, tm.height!)).toBe(320);

    // The same file again: one stored copy (one sha256 directory, its files untouched), two media rows.
    const sha = createHash('sha256').update(photo).digest('hex');
    const dir = path.join(mediaRoot, sha.slice(0, 2), sha.slice(2, 4), sha);
    const before = fs.statSync(path.join(dir, 'display.jpg')).mtimeMs;
    const again = await upload(c.thread.id, c.person.token, photo, 'image/jpeg');
    expect(again.status).toBe(201);
    expect(again.body.media_id).not.toBe(up.body.media_id);
    const rows = await t.db.query('SELECT DISTINCT sha256 FROM media_objects WHERE id = ANY($1)', [[up.body.media_id, again.body.media_id]]);
    expect(rows).toEqual([{ sha256: sha }]);
    const shaDirs = fs.readdirSync(path.join(mediaRoot, sha.slice(0, 2), sha.slice(2, 4))).filter((n) => n === sha);
    expect(shaDirs).toHaveLength(1);
    expect(fs.statSync(path.join(dir, 'display.jpg')).mtimeMs).toBe(before);
    expect(fs.readdirSync(dir).sort()).toEqual(['display.jpg', 'display.webp', 'manifest.json', 'thumb.jpg', 'thumb.webp']);
  });

  it('serves with a strong ETag (304 on If-None-Match) and Range for video (206, 416)', async () => {
    const c = await setup();
    const video = mp4WithDuration({ timescale: 1000, duration: 4000, mdatBytes: 200_000 });
    const up = await upload(c.thread.id, c.person.token, video, 'video/mp4', 'clip.mp4');
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ type: 'video', payload: { mime: 'video/mp4', duration_ms: 4000, size: video.length } });
    const url = up.body.payload.url as string;
    expect(url).toContain('/original?');

    const full = await get(url);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('video/mp4');
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    const etag = full.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{32}-original"$/);
    expect(Buffer.from(await full.arrayBuffer()).equals(video)).toBe(true);

    const notModified = await get(url, { 'if-none-match': etag });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('etag')).toBe(etag);

    const part = await get(url, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${video.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(video.subarray(100, 200))).toBe(true);

    const tail = await get(url, { range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(video.subarray(video.length - 10))).toBe(true);

    const bad = await get(url, { range: `bytes=${video.length}-` });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe(`bytes */${video.length}`);
    expect(bad.headers.get('cache-control') ?? '').not.toContain('immutable');
    await bad.arrayBuffer();
  });

  it('answers HEAD with the headers of GET and no body, and 304 on If-None-Match', async () => {
    const c = await setup();
    const video = mp4WithDuration({ timescale: 1000, duration: 2000, mdatBytes: 30_000 });
    const image = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#258' } }).jpeg().toBuffer();
    const v = await upload(c.thread.id, c.person.token, video, 'video/mp4');
    const i = await upload(c.thread.id, c.person.token, image, 'image/jpeg');
    expect([v.status, i.status]).toEqual([201, 201]);

    for (const url of [v.body.payload.url as string, i.body.payload.thumbnail_url as string]) {
      const full = await get(url);
      const bytes = Buffer.from(await full.arrayBuffer());
      const head = await fetch(url, { method: 'HEAD' });
      expect(head.status).toBe(200);
      for (const h of ['etag', 'content-type', 'cache-control', 'accept-ranges', 'x-content-type-options']) {
        expect({ h, value: head.headers.get(h) }).toEqual({ h, value: full.headers.get(h) });
      }
      expect(head.headers.get('content-length')).toBe(String(bytes.length));
      expect((await head.arrayBuffer()).byteLength).toBe(0);

      const notModified = await fetch(url, { method: 'HEAD', headers: { 'if-none-match': full.headers.get('etag')! } });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.get('etag')).toBe(full.headers.get('etag'));
      expect((await notModified.arrayBuffer()).byteLength).toBe(0);
    }
    // A forged signature is refused on HEAD too.
    expect((await fetch(`${v.body.payload.url}x`, { method: 'HEAD' })).status).toBe(403);
  });

  it('refuses oversize (413), a spoofed type (400) and a corrupt image (400, nothing left in temp)', async () => {
    const c = await setup();
    const big = Buffer.alloc(25 * 1024 * 1024 + 1, 0x41);
    const tooBig = await upload(c.thread.id, c.person.token, big, 'application/octet-stream');
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.code).toBe('MEDIA.TOO_LARGE');

    const spoofed = await upload(c.thread.id, c.person.token, Buffer.from('MZ this is not a picture at all'.repeat(50)), 'image/jpeg', 'cat.jpg');
    expect(spoofed.status).toBe(400);
    expect(spoofed.body.code).toBe('MEDIA.TYPE_MISMATCH');

    const truncated = photo.subarray(0, Math.floor(photo.length / 3));
    const corrupt = await upload(c.thread.id, c.person.token, truncated, 'image/jpeg');
    expect(corrupt.status).toBe(400);
    expect(corrupt.body.code).toBe('MEDIA.CORRUPT_IMAGE');
    expect(corrupt.body.message).toMatch(/\S/);
    const sha = createHash('sha256').update(truncated).digest('hex');
    expect(fs.existsSync(path.join(mediaRoot, sha.slice(0, 2), sha.slice(2, 4), sha))).toBe(false);
    expect(tempFiles()).toEqual([]);

    // Someone else's thread: 404, and an id of another thread cannot be sent.
    const other = await setup();
    expect((await upload(other.thread.id, c.person.token, photo, 'image/jpeg')).status).toBe(404);
    const theirs = await upload(other.thread.id, other.person.token, mp4WithDuration({ timescale: 1000, duration: 1000 }), 'video/mp4');
    const stolen = await api.post(
      `/threads/${c.thread.id}/messages`,
      { attachments: [{ media_id: theirs.body.media_id }], client_message_id: clientId() },
      { token: c.person.token },
    );
    expect(stolen.status).toBe(400);
    expect(stolen.body.code).toBe('MEDIA.UNKNOWN_ATTACHMENT');
    // Neither text nor attachments.
    const empty = await api.post(`/threads/${c.thread.id}/messages`, { client_message_id: clientId() }, { token: c.person.token });
    expect(empty.status).toBe(400);
    expect(JSON.stringify(empty.body)).toMatch(/text/);
  });

  it("refuses an upload to a thread the person blocked or whose Page is suspended, and past the person's send budget, storing nothing", async () => {
    const limited = await t.spawnSibling('api', { PERSON_SEND_BURST: '3', PERSON_SEND_RATE_PER_SECOND: '1' });
    try {
      const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#0a0' } }).png().toBuffer();
      const uploadVia = async (base: string, threadId: string, token: string, bytes: Buffer) => {
        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'dot.png');
        const res = await fetch(`${base}/threads/${threadId}/attachments`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
        return { status: res.status, headers: res.headers, body: (await res.json()) as { code?: string } };
      };
      const count = async (threadId: string) =>
        (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM media_objects WHERE thread_id = $1', [threadId]))[0].n;

      // Blocked: the person writes nothing to the Page, uploads included.
      const c = await setup();
      expect((await api.post(`/threads/${c.thread.id}/block`, undefined, { token: c.person.token })).status).toBe(200);
      const blocked = await uploadVia(t.url, c.thread.id, c.person.token, png);
      expect([blocked.status, blocked.body.code]).toEqual([409, 'THREAD.BLOCKED']);
      expect(await count(c.thread.id)).toBe(0);

      // A suspended Page's thread takes nothing either.
      const s = await setup();
      const suspend = await api.post(`/admin/pages/${s.page.id}/suspend`, { reason: 'test' }, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      expect(suspend.status).toBe(200);
      const suspended = await uploadVia(t.url, s.thread.id, s.person.token, png);
      expect([suspended.status, suspended.body.code]).toEqual([404, 'PAGE.NOT_FOUND']);
      expect(await count(s.thread.id)).toBe(0);

      // Each upload is stored and processed: it spends the person's send bucket (burst 3 here), as a message does.
      const r = await setup();
      for (let i = 0; i < 3; i++) expect((await uploadVia(limited.url, r.thread.id, r.person.token, png)).status).toBe(201);
      const over = await uploadVia(limited.url, r.thread.id, r.person.token, png);
      expect([over.status, over.body.code]).toEqual([429, 'THREAD.RATE_LIMITED']);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await count(r.thread.id)).toBe(3);
    } finally {
      await limited.stop();
    }
  });

  it('answers 403 to expired and forged URLs', async () => {
    const c = await setup();
    const up = await upload(c.thread.id, c.person.token, mp4WithDuration({ timescale: 600, duration: 600 }), 'video/mp4');
    const good = new URL(up.body.payload.url);
    expect((await get(good.href)).status).toBe(200);

    const forged = new URL(good.href);
    forged.searchParams.set('sig', good.searchParams.get('sig')!.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A')));
    const f = await get(forged.href);
    expect(f.status).toBe(403);
    expect(((await f.json()) as any).code).toBe('MEDIA.URL_FORGED');

    // Another variant under the same signature, or no signature at all.
    expect((await get(good.href.replace('/original?', '/display.jpg?'))).status).toBe(403);
    expect((await get(`${good.origin}${good.pathname}`)).status).toBe(403);

    // A correctly signed URL whose expiry has passed (signed here with the platform's key).
    const signer = new MediaUrlSigner(Buffer.from(t.env.SECRETS_KEY, 'hex'), 3600);
    const expired = signer.sign(up.body.media_id, 'original', Math.floor(Date.now() / 1000) - 1);
    const e = await get(`${t.url}${expired.path}`);
    expect(e.status).toBe(403);
    expect(((await e.json()) as any).code).toBe('MEDIA.URL_EXPIRED');
    // The same key with a future expiry works: the refusal above is the expiry alone.
    expect((await get(`${t.url}${signer.sign(up.body.media_id, 'original').path}`)).status).toBe(200);
  });

  it('an expired URL pasted into a message or a template reaches the bot as written: only media the platform attached is signed again', async () => {
    const owner = await setup();
    const up = await upload(owner.thread.id, owner.person.token, mp4WithDuration({ timescale: 600, duration: 600 }), 'video/mp4');
    const signer = new MediaUrlSigner(Buffer.from(t.env.SECRETS_KEY, 'hex'), 3600);
    const expired = `${t.url}${signer.sign(up.body.media_id, 'original', Math.floor(Date.now() / 1000) - 1).path}`;
    // Someone else, on another Page, pastes it as text; that Page's bot then echoes it in a template.
    const other = await setup();
    const sent = await api.post(`/threads/${other.thread.id}/messages`, { text: expired, client_message_id: clientId() }, { token: other.person.token });
    expect(sent.status).toBe(201);
    const text = await waitFor('the pasted URL at the bot', () => webhookMessages(other.page.id).find((m) => m.message?.text?.startsWith(t.url)));
    expect(text.message.text).toBe(expired);
    const template = {
      attachment: { type: 'template', payload: { template_type: 'generic', elements: [{ title: 'Look', image_url: expired }] } },
    };
    const echoed = await api.post(`/v25.0/me/messages?access_token=${other.pageToken}`, {
      recipient: { id: text.sender.id },
      messaging_type: 'RESPONSE',
      message: template,
    });
    expect(echoed.status).toBe(200);
    const echo = await waitFor('the echo at the bot', () => webhookMessages(other.page.id).find((m) => m.message?.is_echo && m.message.attachments));
    expect(echo.message.attachments[0].payload.elements[0].image_url).toBe(expired);
    expect((await get(text.message.text)).status).toBe(403);
  });

  it('insecure mode with no allowlist: webhooks reach a bot on loopback, a media URL on loopback is refused (no read-back SSRF)', async () => {
    const own = await startTestPlatform({ env: { ALLOW_INSECURE_WEBHOOKS: 'true', OUTBOUND_ALLOWLIST: '' }, redis: false });
    const secret = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(photo);
    });
    await new Promise<void>((r) => secret.listen(0, '127.0.0.1', r));
    try {
      const ownApi = httpClient(own.url);
      const c = await conversation(ownApi, bot);
      bot.secrets.push(c.app.secret);
      const hello = await ownApi.post(`/threads/${c.thread.id}/messages`, { text: 'hi', client_message_id: clientId() }, { token: c.person.token });
      expect(hello.status).toBe(201);
      await waitFor('the webhook on loopback', () => webhookMessages(c.page.id).find((m) => m.message?.mid === hello.body.mid));
      let fetched = 0;
      secret.on('request', () => fetched++);
      const refused = await ownApi.post(`/v25.0/me/message_attachments?access_token=${c.pageToken}`, {
        message: { attachment: { type: 'image', payload: { url: `http://127.0.0.1:${(secret.address() as AddressInfo).port}/p.jpg`, is_reusable: true } } },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toMatch(/not allowed/);
      expect(fetched).toBe(0);
    } finally {
      await new Promise((r) => secret.close(r));
      await own.close();
    }
  });

  it('bots: a URL upload goes through the pipeline; private addresses are refused; a file upload; sends carry signed URLs', async () => {
    const c = await setup();
    // The person writes first (opens the messaging window), so the bot may answer.
    const hello = await api.post(`/threads/${c.thread.id}/messages`, { text: 'hi', client_message_id: clientId() }, { token: c.person.token });
    const first = await waitFor('the webhook', () => webhookMessages(c.page.id).find((m) => m.message?.mid === hello.body.mid));
    const psid = first.sender.id as string;

    const small = await sharp(photo).resize(800).jpeg().toBuffer();
    // Over MEDIA_URL_IMAGE_MAX_BYTES (8 MB) but under MEDIA_MAX_BYTES: an uncompressed PNG of noise.
    const noise = Buffer.alloc(1800 * 1700 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const huge = await sharp(noise, { raw: { width: 1800, height: 1700, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    expect(huge.length).toBeGreaterThan(8 * 1024 * 1024);
    const host = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': req.url === '/huge.png' ? 'image/png' : 'image/jpeg' });
      res.end(req.url === '/huge.png' ? huge : small);
    });
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    const port = (host.address() as AddressInfo).port;
    try {
      const byUrl = await api.post(`/v25.0/me/message_attachments?access_token=${c.pageToken}`, {
        message: { attachment: { type: 'image', payload: { url: `http://127.0.0.1:${port}/p.jpg`, is_reusable: true } } },
      });
      expect(byUrl.status).toBe(200);
      expect(byUrl.body.attachment_id).toMatch(/^\d+$/);
      const [row] = await t.db.query('SELECT media_id FROM message_attachments WHERE id = $1', [byUrl.body.attachment_id]);
      const [media] = await t.db.query('SELECT kind, width FROM media_objects WHERE id = $1', [row.media_id]);
      expect(media).toEqual({ kind: 'image', width: 800 });

      const tooBig = await api.post(`/v25.0/me/message_attachments?access_token=${c.pageToken}`, {
        message: { attachment: { type: 'image', payload: { url: `http://127.0.0.1:${port}/huge.png`, is_reusable: true } } },
      });
      expect(tooBig.status).toBe(413);
      expect(tooBig.body.error).toMatchObject({ code: 100, message: expect.stringContaining('8388608') });

      // The type is read from the bytes: a JPEG is not a video.
      const lie = await api.post(`/v25.0/me/message_attachments?access_token=${c.pageToken}`, {
        message: { attachment: { type: 'video', payload: { url: `http://127.0.0.1:${port}/p.jpg`, is_reusable: true } } },
      });
      expect(lie.status).toBe(400);
      expect(lie.body.error.code).toBe(100);

      const reply = await pageSays(api, c.pageToken, psid, { attachment: { type: 'image', payload: { attachment_id: byUrl.body.attachment_id } } });
      expect(reply.status).toBe(200);
      const echo = await waitFor('the echo', () => webhookMessages(c.page.id).find((m) => m.message?.is_echo && m.message.mid === reply.body.message_id));
      const echoed = echo.message.attachments[0];
      expect(echoed.type).toBe('image');
      expect(echoed.payload.url).toMatch(/\/media\/\d+\/display\.jpg\?exp=\d+&sig=/);
      const fetched = await get(echoed.payload.url);
      expect(fetched.status).toBe(200);
      expect((await sharp(Buffer.from(await fetched.arrayBuffer())).metadata()).width).toBe(800);

      const list = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
      const shown = list.body.data.find((m: any) => m.mid === reply.body.message_id);
      expect(shown.attachment.payload).toMatchObject({ media_id: row.media_id, url: expect.stringContaining('/display.webp?'), thumbnail_url: expect.stringContaining('/thumb.webp?') });
    } finally {
      await new Promise((r) => host.close(r));
    }

    for (const target of ['http://169.254.169.254/latest/meta-data/', 'http://10.1.2.3/x.jpg', 'http://[fd00::1]/x.jpg']) {
      const refused = await api.post(`/v25.0/me/message_attachments?access_token=${c.pageToken}`, {
        message: { attachment: { type: 'image', payload: { url: target, is_reusable: true } } },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toMatch(/not allowed/);
    }

    // A file upload, Graph-style: `message` then `filedata`.
    const form = new FormData();
    form.append('message', JSON.stringify({ attachment: { type: 'video', payload: { is_reusable: true } } }));
    form.append('filedata', new Blob([new Uint8Array(mp4WithDuration({ timescale: 1000, duration: 2500 }))], { type: 'video/mp4' }), 'v.mp4');
    const res = await fetch(`${t.url}/v25.0/me/message_attachments?access_token=${c.pageToken}`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    const { attachment_id } = (await res.json()) as { attachment_id: string };
    const [vrow] = await t.db.query('SELECT m.kind, m.duration_ms FROM message_attachments a JOIN media_objects m ON m.id = a.media_id WHERE a.id = $1', [attachment_id]);
    expect(vrow).toEqual({ kind: 'video', duration_ms: 2500 });
  });
});
