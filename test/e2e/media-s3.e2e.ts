import { mp4WithDuration } from '../../src/media/processing/testing/media-fixtures';
import { syntheticPhoneJpeg } from '../../src/media/processing/testing/synthetic-photo';
import { FakeS3Server, startFakeS3 } from '../../src/media/storage/testing/fake-s3-server';
import { httpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { clientId, conversation } from '../factories/messaging.factory';

// MEDIA_STORAGE=s3 selects the S3 adapter: objects land in the bucket under S3_PREFIX, and are served from it
// (Range included). Against the fake S3 server that checks SigV4; no real S3-compatible service runs here.
describe('media with MEDIA_STORAGE=s3', () => {
  let s3: FakeS3Server;
  let t: TestPlatform;

  beforeAll(async () => {
    s3 = await startFakeS3();
    t = await startTestPlatform({
      env: {
        MEDIA_STORAGE: 's3',
        S3_ENDPOINT: s3.endpoint,
        S3_REGION: s3.region,
        S3_BUCKET: s3.bucket,
        S3_ACCESS_KEY_ID: s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        S3_PREFIX: 'sb/',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  it('stores variants in the bucket and serves them, with Range', async () => {
    const api = httpClient(t.url);
    const c = await conversation(api);
    const upload = async (bytes: Buffer, type: string) => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(bytes)], { type }), 'f');
      const res = await fetch(`${t.url}/threads/${c.thread.id}/attachments`, { method: 'POST', body: form, headers: { authorization: `Bearer ${c.person.token}` } });
      return { status: res.status, body: (await res.json()) as any };
    };
    const img = await upload(await syntheticPhoneJpeg({ width: 1200, height: 900, seed: 5 }), 'image/jpeg');
    expect(img.status).toBe(201);
    const [row] = await t.db.query('SELECT sha256 FROM media_objects WHERE id = $1', [img.body.media_id]);
    const keys = [...s3.objects.keys()].filter((k) => k.includes(row.sha256)).map((k) => k.slice(k.indexOf(row.sha256) + 65)).sort();
    expect(keys).toEqual(['display.jpg', 'display.webp', 'manifest.json', 'thumb.jpg', 'thumb.webp']);
    expect([...s3.objects.keys()].every((k) => k.includes('sb/'))).toBe(true);
    const thumb = await fetch(img.body.payload.thumbnail_url);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');

    const video = mp4WithDuration({ timescale: 1000, duration: 2000, mdatBytes: 30_000 });
    const vid = await upload(video, 'video/mp4');
    const part = await fetch(vid.body.payload.url, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(video.subarray(10, 20))).toBe(true);

    const sent = await api.post(
      `/threads/${c.thread.id}/messages`,
      { attachments: [{ media_id: img.body.media_id }], client_message_id: clientId() },
      { token: c.person.token },
    );
    expect(sent.status).toBe(201);
  });
});
