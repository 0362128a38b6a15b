import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { isMediaError, MediaError, MediaErrorCode } from '../processing/media.errors';
import { mediaKey } from './media-storage';
import { S3MediaStorage, S3MediaStorageOptions } from './s3-media-storage';
import { FakeS3Server, startFakeS3 } from './testing/fake-s3-server';

describe('S3MediaStorage against the in-test S3 server', () => {
  let server: FakeS3Server;
  let tempDir: string;
  const key = mediaKey(createHash('sha256').update('s3').digest('hex'), 'display.webp');
  const options = (over: Partial<S3MediaStorageOptions> = {}): S3MediaStorageOptions => ({
    endpoint: server.endpoint,
    region: server.region,
    bucket: server.bucket,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    tempDir,
    ...over,
  });

  beforeEach(async () => {
    server = await startFakeS3();
    tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'media-s3-'));
  });
  afterEach(async () => {
    await server.close();
    await fs.rm(tempDir, { recursive: true, force: true });
  });

  it('stores path-style under the prefix with the content type, every request signed', async () => {
    const s3 = new S3MediaStorage(options({ prefix: 'media/' }));
    await s3.put(key, Buffer.from('webp bytes'), { contentType: 'image/webp' });
    expect(server.objects.get(`media/${key}`)).toEqual({ body: Buffer.from('webp bytes'), contentType: 'image/webp' });
    expect(server.log[0]).toEqual({ method: 'PUT', path: `/${server.bucket}/media/${key}`, status: 200 });
  });

  it('is refused by the server when the secret is wrong, as a typed storage error', async () => {
    const s3 = new S3MediaStorage(options({ secretAccessKey: 'not-the-secret' }));
    const err = await s3.put(key, Buffer.from('x'), { contentType: 'image/webp' }).catch((e: unknown) => e);
    expect(isMediaError(err, MediaErrorCode.Storage)).toBe(true);
    expect((err as MediaError).reason).toMatch(/403 SignatureDoesNotMatch/);
    expect(server.objects.size).toBe(0);
    await expect(s3.stat(key)).rejects.toThrow(/403/);
  });

  it('spools a stream of unknown length to a temp file, signs its hash, then removes the spool', async () => {
    const s3 = new S3MediaStorage(options());
    await s3.put(key, Readable.from([Buffer.alloc(70_000, 1), Buffer.alloc(10, 2)]), { contentType: 'video/mp4' });
    expect(server.objects.get(key)?.body.length).toBe(70_010);
    expect(await fs.readdir(tempDir)).toEqual([]);
  });

  it('reports network failures as media.storage_error', async () => {
    const s3 = new S3MediaStorage(options());
    await server.close();
    const err = await s3.stat(key).catch((e: unknown) => e);
    expect(isMediaError(err, MediaErrorCode.Storage)).toBe(true);
    server = await startFakeS3(); // for afterEach
  });

  // A service that takes the connection and never answers: without a deadline a stat under a media hash's lock would
  // hold its database connection for undici's default 300 s.
  it('gives up on a service that never answers after timeoutMs, as a storage error', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => void held.push(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const s3 = new S3MediaStorage(options({ endpoint: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, timeoutMs: 200 }));
    try {
      const err = await s3.stat(key).catch((e: unknown) => e);
      expect(isMediaError(err, MediaErrorCode.Storage)).toBe(true);
      expect((err as MediaError).reason).toMatch(/timeout/i);
    } finally {
      held.forEach((socket) => socket.destroy());
      silent.close();
    }
  });
});
