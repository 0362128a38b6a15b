import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { DEFAULT_MEDIA_DIR, FsMediaStorage } from './fs-media-storage';
import { mediaKey, removeStaleTempFiles } from './media-storage';

describe('FsMediaStorage', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'media-fs-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('defaults to ./.data/media', () => {
    expect(new FsMediaStorage().rootDir).toBe(path.resolve(DEFAULT_MEDIA_DIR));
  });

  it('shards as ab/cd/<sha256>/<variant>', async () => {
    const hash = createHash('sha256').update('layout').digest('hex');
    const storage = new FsMediaStorage({ rootDir: root });
    await storage.put(mediaKey(hash, 'thumb.jpg'), Buffer.from('x'), { contentType: 'image/jpeg' });
    expect(await fs.readFile(path.join(root, hash.slice(0, 2), hash.slice(2, 4), hash, 'thumb.jpg'), 'utf8')).toBe('x');
  });

  it('never shows a partial object: the key appears only once the write is complete', async () => {
    const storage = new FsMediaStorage({ rootDir: root });
    const key = mediaKey(createHash('sha256').update('slow').digest('hex'), 'original');
    const body = new PassThrough();
    const done = storage.put(key, body, { contentType: 'video/mp4' });
    body.write(Buffer.alloc(64 * 1024, 1));
    // Wait (bounded) until the bytes are in the temp file, however slow the machine.
    const tmpSize = async () => {
      const [name] = await fs.readdir(storage.tempDir).catch(() => [] as string[]);
      return name ? (await fs.stat(path.join(storage.tempDir, name))).size : -1;
    };
    for (let i = 0; i < 200 && (await tmpSize()) < 64 * 1024; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await tmpSize()).toBe(64 * 1024);
    expect(await storage.exists(key)).toBe(false);
    body.end(Buffer.alloc(10, 2));
    await done;
    expect(await storage.stat(key)).toEqual({ size: 64 * 1024 + 10 });
    expect(await fs.readdir(storage.tempDir)).toEqual([]);
  });

  it('sweeps temp files a killed process left behind, and only old ones', async () => {
    const storage = new FsMediaStorage({ rootDir: root });
    await fs.mkdir(storage.tempDir, { recursive: true });
    await fs.writeFile(path.join(storage.tempDir, 'ingest-old.part'), 'x');
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await fs.utimes(path.join(storage.tempDir, 'ingest-old.part'), old, old);
    await fs.writeFile(path.join(storage.tempDir, 'ingest-live.part'), 'y');
    expect(await removeStaleTempFiles(storage.tempDir)).toBe(1);
    expect(await fs.readdir(storage.tempDir)).toEqual(['ingest-live.part']);
    expect(await removeStaleTempFiles(path.join(root, 'missing'))).toBe(0);
  });
});
