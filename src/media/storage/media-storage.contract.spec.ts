import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { isMediaError, MediaErrorCode } from '../processing/media.errors';
import { FsMediaStorage } from './fs-media-storage';
import { mediaKey, MediaStorage } from './media-storage';
import { S3MediaStorage } from './s3-media-storage';
import { FakeS3Server, startFakeS3 } from './testing/fake-s3-server';

// One contract, every adapter (as Svix runs its suite per queue backend).
interface Harness {
  storage: MediaStorage;
  teardown(): Promise<void>;
}

const adapters: Array<[string, () => Promise<Harness>]> = [
  [
    'fs',
    async () => {
      const root = await fs.mkdtemp(path.join(os.tmpdir(), 'media-fs-'));
      return { storage: new FsMediaStorage({ rootDir: root }), teardown: () => fs.rm(root, { recursive: true, force: true }) };
    },
  ],
  [
    's3 (in-test server)',
    async () => {
      const server: FakeS3Server = await startFakeS3();
      const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'media-s3-'));
      const storage = new S3MediaStorage({
        endpoint: server.endpoint,
        region: server.region,
        bucket: server.bucket,
        accessKeyId: server.accessKeyId,
        secretAccessKey: server.secretAccessKey,
        prefix: 'media/',
        tempDir,
      });
      return {
        storage,
        teardown: async () => {
          await server.close();
          await fs.rm(tempDir, { recursive: true, force: true });
        },
      };
    },
  ],
];

const hashOf = (s: string) => createHash('sha256').update(s).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function rejectsWith(p: Promise<unknown>, code: MediaErrorCode): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isMediaError(err, code)).toBe(true);
}

describe.each(adapters)('MediaStorage contract: %s', (_name, makeHarness) => {
  let h: Harness;
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  const key = mediaKey(hashOf('contract'), 'original');

  beforeEach(async () => {
    h = await makeHarness();
  });
  afterEach(async () => {
    await h.teardown();
  });

  it('puts bytes, a stream and a file, and reads them back whole', async () => {
    await h.storage.put(key, bytes, { contentType: 'application/octet-stream' });
    expect(await readAll(await h.storage.get(key))).toEqual(bytes);

    const k2 = mediaKey(hashOf('stream'), 'display.webp');
    await h.storage.put(k2, Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]), { contentType: 'image/webp' });
    expect(await readAll(await h.storage.get(k2))).toEqual(bytes);

    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'media-src-'));
    const file = path.join(dir, 'src.bin');
    await fs.writeFile(file, bytes);
    const k3 = mediaKey(hashOf('file'), 'thumb.jpg');
    await h.storage.put(k3, { file }, { contentType: 'image/jpeg' });
    expect(await readAll(await h.storage.get(k3))).toEqual(bytes);
    // put copies: the caller's file is still its own.
    expect(await fs.readFile(file)).toEqual(bytes);
    await fs.rm(dir, { recursive: true });
  });

  it('stats and exists', async () => {
    expect(await h.storage.stat(key)).toBeNull();
    expect(await h.storage.exists(key)).toBe(false);
    await h.storage.put(key, bytes, { contentType: 'application/octet-stream' });
    expect(await h.storage.stat(key)).toEqual({ size: 1000 });
    expect(await h.storage.exists(key)).toBe(true);
  });

  it('overwrites a key whole (same content-addressed key, same bytes, is harmless)', async () => {
    await h.storage.put(key, Buffer.from('first version'), { contentType: 'text/plain' });
    await h.storage.put(key, bytes, { contentType: 'application/octet-stream' });
    expect(await readAll(await h.storage.get(key))).toEqual(bytes);
  });

  it('reads inclusive byte ranges, clamps an end past the object, refuses a start past it', async () => {
    await h.storage.put(key, bytes, { contentType: 'application/octet-stream' });
    expect(await readAll(await h.storage.get(key, { start: 0, end: 9 }))).toEqual(bytes.subarray(0, 10));
    expect(await readAll(await h.storage.get(key, { start: 500, end: 500 }))).toEqual(bytes.subarray(500, 501));
    expect(await readAll(await h.storage.get(key, { start: 990 }))).toEqual(bytes.subarray(990));
    expect(await readAll(await h.storage.get(key, { end: 4 }))).toEqual(bytes.subarray(0, 5));
    expect(await readAll(await h.storage.get(key, { start: 995, end: 5000 }))).toEqual(bytes.subarray(995));
    await rejectsWith(h.storage.get(key, { start: 1000 }), MediaErrorCode.InvalidRange);
    await rejectsWith(h.storage.get(key, { start: 10, end: 5 }), MediaErrorCode.InvalidRange);
    await rejectsWith(h.storage.get(key, { start: -1 }), MediaErrorCode.InvalidRange);
  });

  it('reports a missing object as media.not_found', async () => {
    await rejectsWith(h.storage.get(key), MediaErrorCode.NotFound);
    await rejectsWith(h.storage.get(key, { start: 0, end: 1 }), MediaErrorCode.NotFound);
  });

  it('deletes, and deleting again is fine', async () => {
    await h.storage.put(key, bytes, { contentType: 'application/octet-stream' });
    await h.storage.delete(key);
    expect(await h.storage.exists(key)).toBe(false);
    await h.storage.delete(key);
  });

  it('refuses keys that are not <sha256>/<variant>', async () => {
    for (const bad of [
      '../etc/passwd',
      `${hashOf('x')}/../../x`,
      `${hashOf('x')}/a/b`,
      'ABC/original',
      `${hashOf('x').toUpperCase()}/original`,
    ]) {
      await rejectsWith(h.storage.put(bad, bytes, { contentType: 'x/y' }), MediaErrorCode.InvalidKey);
      await rejectsWith(h.storage.get(bad), MediaErrorCode.InvalidKey);
    }
  });

  it('leaves nothing behind when the source stream fails mid-way', async () => {
    const failing = new Readable({
      read() {
        this.push(bytes);
        this.destroy(new Error('client went away'));
      },
    });
    await rejectsWith(h.storage.put(key, failing, { contentType: 'application/octet-stream' }), MediaErrorCode.Storage);
    expect(await h.storage.exists(key)).toBe(false);
    const leftovers = await fs.readdir(h.storage.tempDir).catch(() => []);
    expect(leftovers).toEqual([]);
  });
});
