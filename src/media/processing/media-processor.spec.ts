import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { FsMediaStorage } from '../storage/fs-media-storage';
import { S3MediaStorage } from '../storage/s3-media-storage';
import { FakeS3Server, startFakeS3 } from '../storage/testing/fake-s3-server';
import { heicDecodingSupported } from './detect-type';
import { MediaProcessor } from './media-processor';
import { isMediaError, MediaError, MediaErrorCode } from './media.errors';
import { heicHeader, mp3Cbr, mp4WithDuration, wavPcm } from './testing/media-fixtures';

async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

const streamOf = (buf: Buffer) => Readable.from([buf.subarray(0, 1000), buf.subarray(1000)]);
const sha = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

describe('MediaProcessor.processUpload (fs storage)', () => {
  let root: string;
  let storage: FsMediaStorage;
  let media: MediaProcessor;
  let photo: Buffer;

  beforeAll(async () => {
    photo = await sharp({ create: { width: 1200, height: 900, channels: 3, background: '#4a7' } })
      .composite([{ input: { create: { width: 300, height: 200, channels: 3, background: '#c33' } }, top: 100, left: 100 }])
      .jpeg({ quality: 92 })
      .toBuffer();
  });
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'media-proc-'));
    storage = new FsMediaStorage({ rootDir: root });
    media = new MediaProcessor(storage);
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('stores four image variants under the hash, records their sizes and dimensions, cleans the spool', async () => {
    const r = await media.processUpload(streamOf(photo), { maxBytes: 10_000_000, declaredType: 'image/jpeg' });
    const hash = sha(photo);
    expect(r).toEqual(
      expect.objectContaining({
        sha256: hash,
        kind: 'image',
        mime: 'image/jpeg',
        size: photo.length,
        width: 1200,
        height: 900,
        deduplicated: false,
      }),
    );
    expect(r.variants.map((v) => [v.name, v.key, v.mime, v.width, v.height])).toEqual([
      ['display.webp', `${hash}/display.webp`, 'image/webp', 1200, 900],
      ['display.jpg', `${hash}/display.jpg`, 'image/jpeg', 1200, 900],
      ['thumb.webp', `${hash}/thumb.webp`, 'image/webp', 320, 240],
      ['thumb.jpg', `${hash}/thumb.jpg`, 'image/jpeg', 320, 240],
    ]);
    for (const v of r.variants) expect(await storage.stat(v.key)).toEqual({ size: v.size });
    expect(await storage.exists(`${hash}/original`)).toBe(false);
    expect(await listFiles(storage.tempDir)).toEqual([]);
  });

  it('stores identical bytes once: the second upload encodes and writes nothing', async () => {
    const first = await media.processUpload(streamOf(photo), { maxBytes: 10_000_000 });
    const filesAfterFirst = await listFiles(root);
    const put = jest.spyOn(storage, 'put');
    const second = await media.processUpload(streamOf(photo), { maxBytes: 10_000_000 });
    expect(second.deduplicated).toBe(true);
    expect(second.variants).toEqual(first.variants);
    expect(put).not.toHaveBeenCalled();
    expect(await listFiles(root)).toEqual(filesAfterFirst);
  });

  it('removeStored deletes every object of a hash and its directory; a commit that finds them gone re-encodes', async () => {
    const first = await media.processUpload(streamOf(photo), { maxBytes: 10_000_000, keepOriginal: true });
    await media.removeStored(first.sha256);
    expect(await listFiles(root)).toEqual([]);
    const hashDir = path.join(root, first.sha256.slice(0, 2), first.sha256.slice(2, 4), first.sha256);
    await expect(fs.stat(hashDir)).rejects.toMatchObject({ code: 'ENOENT' });

    // A dedup whose objects a collection removes before the caller records it: encoded again from the spool.
    await media.processUpload(streamOf(photo), { maxBytes: 10_000_000 });
    const seen: boolean[] = [];
    const r = await media.processUpload(streamOf(photo), {
      maxBytes: 10_000_000,
      commit: async (p) => {
        seen.push(p.deduplicated);
        if (seen.length === 1) await media.removeStored(p.sha256);
        return media.isStored(p);
      },
    });
    expect(seen).toEqual([true, false]);
    expect(r.deduplicated).toBe(false);
    expect(await media.isStored(r)).toBe(true);
    expect(await fs.readdir(storage.tempDir)).toEqual([]);
  });

  it('re-encodes a known hash when the encoding settings changed, keeping an original stored earlier', async () => {
    await media.processUpload(streamOf(photo), { maxBytes: 10_000_000, keepOriginal: true });
    const sharper = new MediaProcessor(storage, { image: { webpQuality: 90 } });
    const r = await sharper.processUpload(streamOf(photo), { maxBytes: 10_000_000 });
    expect(r.deduplicated).toBe(false);
    const again = await sharper.processUpload(streamOf(photo), { maxBytes: 10_000_000, keepOriginal: true });
    expect(again.deduplicated).toBe(true);
    expect(again.variants.map((v) => v.name)).toContain('original');
  });

  it('removes what it wrote when storage fails half-way, and reports the storage error', async () => {
    const realPut = storage.put.bind(storage);
    jest.spyOn(storage, 'put').mockImplementation(async (key, body, opts) => {
      if (key.endsWith('/thumb.webp')) throw new MediaError(MediaErrorCode.Storage, 'disk full');
      return realPut(key, body, opts);
    });
    const err = await media.processUpload(streamOf(photo), { maxBytes: 10_000_000 }).catch((e: unknown) => e);
    expect(isMediaError(err, MediaErrorCode.Storage)).toBe(true);
    expect(await listFiles(root)).toEqual([]);
  });

  it('keeps the original only when asked, and adds it to an already processed hash', async () => {
    await media.processUpload(streamOf(photo), { maxBytes: 10_000_000 });
    const r = await media.processUpload(streamOf(photo), { maxBytes: 10_000_000, keepOriginal: true });
    const original = r.variants.find((v) => v.name === 'original')!;
    expect(original).toEqual(expect.objectContaining({ mime: 'image/jpeg', size: photo.length, width: 1200, height: 900 }));
    const chunks: Buffer[] = [];
    for await (const c of await storage.get(original.key)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks)).toEqual(photo);
  });

  it.each([
    [
      'a PNG declared as image/jpeg',
      () =>
        sharp({ create: { width: 10, height: 10, channels: 3, background: '#000' } })
          .png()
          .toBuffer(),
      'image/jpeg',
    ],
    ['a text file named .jpg (declared image/jpeg)', async () => Buffer.from('not a picture, just text\n'.repeat(50)), 'image/jpeg'],
    ['an MP4 declared as image/png', async () => mp4WithDuration({ timescale: 1, duration: 1 }), 'image/png'],
  ])('refuses %s with media.type_mismatch and stores nothing', async (_what, make, declaredType) => {
    const err = await media.processUpload(streamOf(await make()), { maxBytes: 1_000_000, declaredType }).catch((e: unknown) => e);
    expect(isMediaError(err, MediaErrorCode.TypeMismatch)).toBe(true);
    expect(await listFiles(root)).toEqual([]);
  });

  it('aborts an oversize upload with media.too_large, leaving no temp file and nothing stored', async () => {
    const err = await media.processUpload(streamOf(photo), { maxBytes: photo.length - 1 }).catch((e: unknown) => e);
    expect(isMediaError(err, MediaErrorCode.TooLarge)).toBe(true);
    expect(await listFiles(root)).toEqual([]);
  });

  it('refuses a truncated JPEG with media.corrupt_image, leaving nothing behind (even with keepOriginal)', async () => {
    const cut = photo.subarray(0, Math.floor(photo.length * 0.7));
    const err = await media.processUpload(streamOf(cut), { maxBytes: 10_000_000, keepOriginal: true }).catch((e: unknown) => e);
    expect(isMediaError(err, MediaErrorCode.CorruptImage)).toBe(true);
    expect(await listFiles(root)).toEqual([]);
  });

  it('stores video, audio and other files as they come, with duration where headers give it', async () => {
    const mp4 = mp4WithDuration({ timescale: 600, duration: 3000 });
    const video = await media.processUpload(streamOf(mp4), { maxBytes: 1_000_000, declaredType: 'video/mp4' });
    expect(video).toEqual(expect.objectContaining({ kind: 'video', mime: 'video/mp4', size: mp4.length, durationMs: 5000 }));
    expect(video.variants).toEqual([{ name: 'original', key: `${sha(mp4)}/original`, mime: 'video/mp4', size: mp4.length }]);

    const wav = wavPcm({ sampleRate: 16000, channels: 1, seconds: 2 });
    expect(await media.processUpload(streamOf(wav), { maxBytes: 1_000_000, declaredType: 'audio/wav' })).toEqual(
      expect.objectContaining({ kind: 'audio', mime: 'audio/vnd.wave', durationMs: 2000 }),
    );
    const mp3 = mp3Cbr(40, { xing: true });
    expect((await media.processUpload(streamOf(mp3), { maxBytes: 1_000_000, declaredType: 'audio/mpeg' })).durationMs).toBe(1045);

    const webm = Buffer.concat([
      Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01]),
      Buffer.from('B\x82\x84webm', 'latin1'),
      Buffer.alloc(2000),
    ]);
    const unknownDuration = await media.processUpload(streamOf(webm), { maxBytes: 1_000_000 });
    expect(unknownDuration).toEqual(expect.objectContaining({ kind: 'video', mime: 'video/webm', durationMs: null }));

    const text = Buffer.from('meeting notes\n'.repeat(200));
    const file = await media.processUpload(streamOf(text), { maxBytes: 1_000_000, declaredType: 'text/plain' });
    expect(file).toEqual(expect.objectContaining({ kind: 'file', mime: 'application/octet-stream', size: text.length }));
    expect(file.durationMs).toBeUndefined();
  });

  it('refuses HEIC when this sharp cannot re-encode it (its EXIF and GPS would be served as uploaded)', async () => {
    const upload = media.processUpload(streamOf(heicHeader()), { maxBytes: 1_000_000, declaredType: 'image/heic' });
    if (heicDecodingSupported()) {
      await expect(upload).rejects.toMatchObject({ code: 'media.corrupt_image' });
      return;
    }
    await expect(upload).rejects.toMatchObject({ code: 'media.unsupported_image', reason: expect.stringContaining('EXIF and GPS') });
  });

  it('re-encodes a TIFF like any photo (TIFF carries EXIF and GPS as camera JPEGs do): no byte of it is served', async () => {
    const tiff = await sharp({ create: { width: 320, height: 200, channels: 3, background: '#336699' } }).tiff().toBuffer();
    const r = await media.processUpload(streamOf(tiff), { maxBytes: 10_000_000, declaredType: 'image/tiff' });
    expect(r).toEqual(expect.objectContaining({ kind: 'image', mime: 'image/tiff', width: 320, height: 200 }));
    expect(r.variants.map((v) => v.name)).not.toContain('original');
    for (const v of r.variants) {
      expect(v.mime).not.toBe('image/tiff');
      const chunks: Buffer[] = [];
      for await (const c of await storage.get(v.key)) chunks.push(c as Buffer);
      expect((await sharp(Buffer.concat(chunks)).metadata()).exif).toBeUndefined();
    }
  });
});

describe('MediaProcessor.processUpload (S3 storage, in-test server)', () => {
  let server: FakeS3Server;
  let tempDir: string;
  beforeEach(async () => {
    server = await startFakeS3();
    tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'media-proc-s3-'));
  });
  afterEach(async () => {
    await server.close();
    await fs.rm(tempDir, { recursive: true, force: true });
  });

  it('runs the same pipeline against S3 and deduplicates there too', async () => {
    const storage = new S3MediaStorage({ ...server, tempDir });
    const media = new MediaProcessor(storage);
    const png = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#258' } })
      .png()
      .toBuffer();
    const first = await media.processUpload(streamOf(png), { maxBytes: 1_000_000, keepOriginal: true });
    expect(first.variants.map((v) => v.name)).toEqual(['display.webp', 'display.jpg', 'thumb.webp', 'thumb.jpg', 'original']);
    expect([...server.objects.keys()].sort()).toEqual([...first.variants.map((v) => v.key), `${first.sha256}/manifest.json`].sort());
    const puts = server.log.filter((l) => l.method === 'PUT').length;
    const second = await media.processUpload(streamOf(png), { maxBytes: 1_000_000, keepOriginal: true });
    expect(second.deduplicated).toBe(true);
    expect(server.log.filter((l) => l.method === 'PUT').length).toBe(puts);
    expect(await fs.readdir(tempDir)).toEqual([]);
  });
});
