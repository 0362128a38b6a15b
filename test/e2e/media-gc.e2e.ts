import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { mp4WithDuration } from '../../src/media/processing/testing/media-fixtures';
import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { clientId, conversation } from '../factories/messaging.factory';

// Orphan collection: uploads nobody sent are deleted after MEDIA_ORPHAN_TTL_SECONDS by the worker role; a stored
// object goes only with the last row of its hash. Rows are made old by moving created_at back, not by waiting.
describe('media: orphan collection', () => {
  let t: TestPlatform;
  let api: HttpClient;

  beforeAll(async () => {
    // An api-role process serves the uploads; the collector runs only once a worker-role process is up.
    t = await startTestPlatform({
      role: 'api',
      env: { MEDIA_ORPHAN_TTL_SECONDS: '3600', MEDIA_GC_INTERVAL_MS: '200' },
    });
    api = httpClient(t.url);
  });
  afterAll(async () => {
    await t?.close();
  });

  const mediaRoot = () => path.join(t.dataDir, 'media');
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const hashDir = (h: string) => path.join(mediaRoot(), h.slice(0, 2), h.slice(2, 4), h);
  const rowExists = async (id: string) =>
    (await t.db.query('SELECT 1 FROM media_objects WHERE id = $1', [id])).length > 0;
  const age = (ids: string[]) =>
    t.db.query("UPDATE media_objects SET created_at = now() - interval '2 hours' WHERE id = ANY($1)", [ids]);

  async function upload(threadId: string, token: string, bytes: Buffer, type: string) {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type }), 'f');
    const res = await fetch(`${t.url}/threads/${threadId}/attachments`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { media_id: string }).media_id;
  }

  it('deletes old unsent uploads and their objects, keeps what was sent, shares, is reusable or is recent', async () => {
    const c = await conversation(api);
    const shared = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#a50' } })
      .jpeg()
      .toBuffer();
    const lonely = mp4WithDuration({ timescale: 1000, duration: 1000, mdatBytes: 5_000 });
    const recent = mp4WithDuration({ timescale: 1000, duration: 2000, mdatBytes: 6_000 });

    // Two uploads of the same photo: one sent, one not. A video nobody sent. A recent one nobody sent yet.
    const sentCopy = await upload(c.thread.id, c.person.token, shared, 'image/jpeg');
    const unsentCopy = await upload(c.thread.id, c.person.token, shared, 'image/jpeg');
    const unsent = await upload(c.thread.id, c.person.token, lonely, 'video/mp4');
    const fresh = await upload(c.thread.id, c.person.token, recent, 'video/mp4');
    const message = await api.post(
      `/threads/${c.thread.id}/messages`,
      { attachments: [{ media_id: sentCopy }], client_message_id: clientId() },
      { token: c.person.token },
    );
    expect(message.status).toBe(201);
    // A bot's reusable upload (an attachment_id) that no message used yet.
    const png = await sharp({ create: { width: 50, height: 50, channels: 3, background: '#05a' } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append('message', JSON.stringify({ attachment: { type: 'image', payload: { is_reusable: true } } }));
    form.append('filedata', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'p.png');
    const res = await fetch(`${t.url}/v25.0/me/message_attachments?access_token=${c.pageToken}`, {
      method: 'POST',
      body: form,
    });
    expect(res.status).toBe(200);
    const { attachment_id } = (await res.json()) as { attachment_id: string };
    const [{ media_id: reusable }] = await t.db.query('SELECT media_id FROM message_attachments WHERE id = $1', [
      attachment_id,
    ]);

    await age([sentCopy, unsentCopy, unsent, reusable]);
    expect(fs.existsSync(hashDir(sha(lonely)))).toBe(true);

    // The collector runs in worker-role processes (the api role has none): start one.
    await t.spawnSibling('worker');
    await waitFor(
      'the unsent uploads to be collected',
      async () => !(await rowExists(unsent)) && !(await rowExists(unsentCopy)),
    );

    // The unshared video's objects are gone with its row; the photo's stay for the sent copy.
    expect(fs.existsSync(hashDir(sha(lonely)))).toBe(false);
    expect(fs.readdirSync(hashDir(sha(shared))).sort()).toEqual([
      'display.jpg',
      'display.webp',
      'manifest.json',
      'thumb.jpg',
      'thumb.webp',
    ]);
    for (const kept of [sentCopy, reusable, fresh])
      expect({ kept, exists: await rowExists(kept) }).toEqual({ kept, exists: true });
    expect(fs.existsSync(hashDir(sha(recent)))).toBe(true);

    // What was kept still serves, and the bytes of the collected video can be uploaded afresh.
    const list = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    const shown = list.body.data.find((m: any) => m.mid === message.body.mid);
    expect((await fetch(shown.attachments[0].payload.url)).status).toBe(200);
    const again = await upload(c.thread.id, c.person.token, lonely, 'video/mp4');
    expect(fs.readdirSync(hashDir(sha(lonely)))).toEqual(expect.arrayContaining(['original', 'manifest.json']));
    const [row] = await t.db.query('SELECT variants FROM media_objects WHERE id = $1', [again]);
    expect(row.variants.map((v: { name: string }) => v.name)).toEqual(['original']);
  });
});
