import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import sharp from 'sharp';
import { BotReceiver, startBotReceiver } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { conversation, pageSays, personSays } from '../factories/messaging.factory';

const MAX_BYTES = 2_000_000;

// A bot's plain `payload.url` in a Send API call: fetched by the platform through the SSRF-safe client, streamed
// into the media pipeline and sent as stored media. Also: a URL fetch never holds the body in memory.
describe('media: a bot sends by URL', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let bot: BotReceiver;
  let cdn: http.Server;
  let cdnUrl: string;
  let photo: Buffer;
  // Handlers a test installs for a path.
  const routes = new Map<string, http.RequestListener>();

  beforeAll(async () => {
    t = await startTestPlatform({
      env: {
        OUTBOUND_ALLOWLIST: '127.0.0.0/8',
        MEDIA_MAX_BYTES: String(MAX_BYTES),
        WEBHOOK_RECONCILE_INTERVAL_MS: '500',
      },
    });
    api = httpClient(t.url);
    bot = await startBotReceiver('verify-me');
    photo = await sharp({ create: { width: 900, height: 600, channels: 3, background: '#3a8' } })
      .withExifMerge({ IFD0: { Make: 'PhoneCo' } })
      .jpeg()
      .toBuffer();
    cdn = http.createServer((req, res) => {
      const route = routes.get(req.url ?? '');
      if (route) return route(req, res);
      if (req.url === '/p.jpg') return res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo);
      res.writeHead(404).end('no');
    });
    await new Promise<void>((r) => cdn.listen(0, '127.0.0.1', r));
    cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    cdn?.closeAllConnections();
    await new Promise((r) => cdn?.close(r));
    await bot?.close();
    await t?.close();
  });

  const tempDir = () => path.join(t.dataDir, 'media', '.tmp');
  const tempFiles = () => (fs.existsSync(tempDir()) ? fs.readdirSync(tempDir()) : []);

  async function setup() {
    const c = await conversation(api, bot);
    bot.secrets.push(c.app.secret);
    await personSays(api, c.person, c.thread.id, 'hello');
    const [row] = await t.db.query('SELECT psid FROM threads WHERE id = $1', [c.thread.id]);
    return { ...c, psid: row.psid as string };
  }

  function echoes(pageId: string): any[] {
    return bot.received
      .map((r) => JSON.parse(r.body.toString('utf8')))
      .flatMap((b) => (b.entry ?? []).filter((e: any) => e.id === pageId))
      .flatMap((e: any) => e.messaging)
      .filter((m: any) => m.message?.is_echo);
  }

  it('fetches and stores the URL; the echo and the person get signed URLs; is_reusable answers an attachment_id', async () => {
    const c = await setup();
    const url = `${cdnUrl}/p.jpg`;
    const sent = await pageSays(api, c.pageToken, c.psid, {
      attachment: { type: 'image', payload: { url, is_reusable: true } },
    });
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({
      recipient_id: c.psid,
      message_id: expect.stringMatching(/^m_/),
      attachment_id: expect.stringMatching(/^\d+$/),
    });

    // The message holds our media, not the bot's URL; the row is marked used.
    const [msg] = await t.db.query('SELECT content FROM messages WHERE mid = $1', [sent.body.message_id]);
    expect(JSON.stringify(msg.content)).not.toContain(cdnUrl);
    const mediaId = msg.content.attachment.payload.media_id;
    const [media] = await t.db.query('SELECT kind, width, height, referenced FROM media_objects WHERE id = $1', [
      mediaId,
    ]);
    expect(media).toEqual({ kind: 'image', width: 900, height: 600, referenced: true });
    const [saved] = await t.db.query('SELECT media_id FROM message_attachments WHERE id = $1', [
      sent.body.attachment_id,
    ]);
    expect(saved.media_id).toBe(mediaId);

    const echo = await waitFor('the echo', () => echoes(c.page.id).find((m) => m.message.mid === sent.body.message_id));
    expect(echo.message.attachments).toEqual([
      { type: 'image', payload: { url: expect.stringMatching(/\/media\/\d+\/display\.jpg\?exp=\d+&sig=/) } },
    ]);
    const display = await fetch(echo.message.attachments[0].payload.url);
    expect(display.status).toBe(200);
    expect((await sharp(Buffer.from(await display.arrayBuffer())).metadata()).exif).toBeUndefined();

    const list = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    const shown = list.body.data.find((m: any) => m.mid === sent.body.message_id);
    expect(shown.attachment.payload).toMatchObject({
      media_id: mediaId,
      url: expect.stringContaining('/display.webp?'),
      thumbnail_url: expect.stringContaining('/thumb.webp?'),
    });

    // The saved attachment_id sends the same media again.
    const again = await pageSays(api, c.pageToken, c.psid, {
      attachment: { type: 'image', payload: { attachment_id: sent.body.attachment_id } },
    });
    expect(again.status).toBe(200);
    expect(again.body.attachment_id).toBeUndefined();

    // Without is_reusable: no attachment_id, nothing saved for later.
    const plain = await pageSays(api, c.pageToken, c.psid, { attachment: { type: 'image', payload: { url } } });
    expect(plain.status).toBe(200);
    expect(plain.body).toEqual({ recipient_id: c.psid, message_id: expect.stringMatching(/^m_/) });
    const [{ n }] = await t.db.query('SELECT count(*)::int AS n FROM message_attachments WHERE page_id = $1', [
      c.page.id,
    ]);
    expect(n).toBe(1);
  });

  it("answers Graph's errors for a URL it cannot fetch, a private address and a type the bytes deny; never a 5xx", async () => {
    const c = await setup();
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));

    for (const url of [`${cdnUrl}/missing.jpg`, `http://127.0.0.1:${closedPort}/x.jpg`]) {
      const res = await pageSays(api, c.pageToken, c.psid, { attachment: { type: 'image', payload: { url } } });
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
      expect(res.body.error).toMatchObject({
        code: 100,
        error_subcode: 2018008,
        type: 'OAuthException',
        message: expect.stringContaining('Failed to fetch the file from the url'),
      });
    }
    // The Attachment Upload API answers the same.
    const upload = await api.post(`/v25.0/me/message_attachments?access_token=${c.pageToken}`, {
      message: { attachment: { type: 'image', payload: { url: `${cdnUrl}/missing.jpg`, is_reusable: true } } },
    });
    expect(upload.status).toBe(400);
    expect(upload.body.error).toMatchObject({ code: 100, error_subcode: 2018008 });

    const privateAddress = await pageSays(api, c.pageToken, c.psid, {
      attachment: { type: 'image', payload: { url: 'http://10.1.2.3/x.jpg' } },
    });
    expect(privateAddress.status).toBe(400);
    expect(privateAddress.body.error).toMatchObject({ code: 100, message: expect.stringMatching(/not allowed/) });

    const lie = await pageSays(api, c.pageToken, c.psid, {
      attachment: { type: 'video', payload: { url: `${cdnUrl}/p.jpg` } },
    });
    expect(lie.status).toBe(400);
    expect(lie.body.error).toMatchObject({
      code: 100,
      message: expect.stringContaining('is video but the content is an image'),
    });

    // Nothing was sent for any of them.
    const [{ n }] = await t.db.query(
      "SELECT count(*)::int AS n FROM messages WHERE thread_id = $1 AND sender = 'page'",
      [c.thread.id],
    );
    expect(n).toBe(0);
  });

  it('streams the body to the spool file while it arrives, rather than holding it in memory', async () => {
    const c = await setup();
    // Random bytes can read as media (an MP3 frame header is two bytes): a text start keeps the type `file` however
    // the dice fall (a fresh-clone CI run once drew "the content is audio").
    const head = Buffer.concat([Buffer.from('a test blob, not media\n'), randomBytes(300_000)]);
    const tail = randomBytes(300_000);
    let release!: () => void;
    routes.set('/slow.bin', (_req, res) => {
      // No Content-Length: the platform cannot know the size before reading.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(head);
      release = () => res.end(tail);
    });
    const sending = pageSays(api, c.pageToken, c.psid, {
      attachment: { type: 'file', payload: { url: `${cdnUrl}/slow.bin` } },
    });
    // The first bytes are on disk while the server still holds back the rest: the fetch is not buffered.
    const spool = await waitFor('a spool file with the first bytes', () =>
      tempFiles().find((n) => n.startsWith('ingest-') && fs.statSync(path.join(tempDir(), n)).size >= 100_000),
    );
    expect(spool).toMatch(/\.part$/);
    release();
    const sent = await sending;
    // With the error, should it fail, so the run says why.
    expect({ status: sent.status, error: sent.body.error }).toEqual({ status: 200, error: undefined });
    const [msg] = await t.db.query('SELECT content FROM messages WHERE mid = $1', [sent.body.message_id]);
    const [media] = await t.db.query('SELECT kind, size FROM media_objects WHERE id = $1', [
      msg.content.attachment.payload.media_id,
    ]);
    expect(media).toEqual({ kind: 'file', size: String(head.length + tail.length) });
    expect(tempFiles()).toEqual([]);
  });

  it("cuts a body over MEDIA_MAX_BYTES off (413 in Graph's envelope), hangs up and leaves no temp file", async () => {
    const c = await setup();
    const total = 64 * 1024 * 1024;
    let written = 0;
    let hungUp!: () => void;
    const serverGaveUp = new Promise<void>((r) => (hungUp = r));
    routes.set('/endless.bin', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.on('close', hungUp);
      const chunk = Buffer.concat([Buffer.from('a test blob, not media\n'), randomBytes(64 * 1024)]);
      const pump = () => {
        while (!res.destroyed && written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    });
    const res = await pageSays(api, c.pageToken, c.psid, {
      attachment: { type: 'file', payload: { url: `${cdnUrl}/endless.bin` } },
    });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 100, message: expect.stringContaining(String(MAX_BYTES)) });
    await serverGaveUp;
    expect(written).toBeLessThan(total);
    expect(tempFiles()).toEqual([]);
  });
});
