import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mp4WithDuration } from '../../src/media/processing/testing/media-fixtures';
import { syntheticPhoneJpeg } from '../../src/media/processing/testing/synthetic-photo';
import { startBotReceiver } from '../support/bot-receiver';
import { httpClient } from '../support/http-client';
import { spawnPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { clientId, conversation } from '../factories/messaging.factory';

// The embedded default (PGlite, one connection): uploads stream with no transaction open, so concurrent
// uploads and messages neither deadlock nor queue behind a spool; media lands under DATA_DIR/media.
describe('media on the embedded default', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-embedded-media-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('uploads concurrently with messages, sends, and serves signed URLs', async () => {
    const bot = await startBotReceiver('verify-me');
    // A stale spool file from a "killed" process: removed at boot.
    const tmp = path.join(dataDir, 'media', '.tmp');
    fs.mkdirSync(tmp, { recursive: true });
    const stale = path.join(tmp, 'ingest-stale.part');
    fs.writeFileSync(stale, 'x');
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    fs.utimesSync(stale, old, old);
    const p = await spawnPlatform('all', { DATA_DIR: dataDir });
    try {
      expect(fs.existsSync(stale)).toBe(false);
      const api = httpClient(p.url);
      const c = await conversation(api, bot);
      const photo = await syntheticPhoneJpeg({ width: 1600, height: 1200, seed: 3 });
      const upload = async (bytes: Buffer, type: string) => {
        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(bytes)], { type }), 'f');
        const res = await fetch(`${p.url}/threads/${c.thread.id}/attachments`, { method: 'POST', body: form, headers: { authorization: `Bearer ${c.person.token}` } });
        return { status: res.status, body: (await res.json()) as any };
      };
      const [a, b, ...texts] = await Promise.all([
        upload(photo, 'image/jpeg'),
        upload(mp4WithDuration({ timescale: 1000, duration: 3000, mdatBytes: 50_000 }), 'video/mp4'),
        ...Array.from({ length: 5 }, (_, i) => api.post(`/threads/${c.thread.id}/messages`, { text: `t${i}`, client_message_id: clientId() }, { token: c.person.token })),
      ]);
      expect([a.status, b.status, ...texts.map((x) => x.status)]).toEqual([201, 201, 201, 201, 201, 201, 201]);
      const sent = await api.post(
        `/threads/${c.thread.id}/messages`,
        { attachments: [{ media_id: a.body.media_id }, { media_id: b.body.media_id }], client_message_id: clientId() },
        { token: c.person.token },
      );
      expect(sent.status).toBe(201);
      const item = await waitFor('the webhook', () =>
        bot.received.map((r) => JSON.parse(r.body.toString())).flatMap((x) => x.entry.flatMap((e: any) => e.messaging)).find((m: any) => m.message?.mid === sent.body.mid),
      );
      expect(item.message.attachments.map((x: any) => x.type)).toEqual(['image', 'video']);
      for (const att of item.message.attachments) expect((await fetch(att.payload.url)).status).toBe(200);
      expect(fs.readdirSync(path.join(dataDir, 'media')).some((n) => /^[0-9a-f]{2}$/.test(n))).toBe(true);
    } finally {
      await p.stop();
      await bot.close();
    }
  }, 120_000);
});
