import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import sharp from 'sharp';
import { ingest } from './ingest';
import { isMediaError, MediaErrorCode } from './media.errors';

describe('ingest', () => {
  let tempDir: string;
  beforeEach(async () => {
    tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'media-ingest-'));
  });
  afterEach(async () => {
    await fs.rm(tempDir, { recursive: true, force: true });
  });

  const chunked = (buf: Buffer, cuts: number[]) => {
    const at = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
    const parts: Buffer[] = [];
    let prev = 0;
    for (const c of [...at, buf.length]) {
      parts.push(buf.subarray(prev, c));
      prev = c;
    }
    return Readable.from(parts.filter((p) => p.length));
  };

  it('hashes, counts and spools any chunking of the bytes identically', async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    const payload = Buffer.concat([png, Buffer.alloc(9000, 7)]);
    const expected = createHash('sha256').update(payload).digest('hex');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 8 }), async (cuts) => {
        const f = await ingest(chunked(payload, cuts), { maxBytes: 1 << 20, tempDir });
        try {
          expect(f.sha256).toBe(expected);
          expect(f.size).toBe(payload.length);
          expect(f.type.mime).toBe('image/png');
          expect(await fs.readFile(f.path)).toEqual(payload);
        } finally {
          await f.cleanup();
        }
      }),
      { numRuns: 25 },
    );
    expect(await fs.readdir(tempDir)).toEqual([]);
  });

  it('detects from the first bytes even when the upload is shorter than the detection window', async () => {
    const f = await ingest(Readable.from(['hello']), { maxBytes: 100, tempDir });
    expect(f).toEqual(
      expect.objectContaining({ size: 5, type: expect.objectContaining({ mime: 'application/octet-stream', kind: 'file' }) }),
    );
    await f.cleanup();
  });

  it('aborts past maxBytes without reading the rest, and leaves no temp file', async () => {
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled++;
        this.push(Buffer.alloc(64 * 1024, 1));
      },
    });
    const err = await ingest(endless, { maxBytes: 1_000_000, tempDir }).catch((e: unknown) => e);
    expect(isMediaError(err, MediaErrorCode.TooLarge)).toBe(true);
    expect(pulled).toBeLessThan(40);
    expect(await fs.readdir(tempDir)).toEqual([]);
  });

  it('holds an image to imageMaxBytes once the head says it is one, other files to maxBytes', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#abc' } }).png().toBuffer();
    const image = Buffer.concat([png, Buffer.alloc(20_000)]);
    const err = await ingest(Readable.from([image]), { maxBytes: 50_000, imageMaxBytes: 10_000, tempDir }).catch((e: unknown) => e);
    expect(isMediaError(err, MediaErrorCode.TooLarge)).toBe(true);
    expect((err as { limit?: number }).limit).toBe(10_000);
    expect(await fs.readdir(tempDir)).toEqual([]);

    const file = await ingest(Readable.from([Buffer.alloc(20_000, 0x41)]), { maxBytes: 50_000, imageMaxBytes: 10_000, tempDir });
    expect(file.size).toBe(20_000);
    await file.cleanup();
  });

  it('accepts exactly maxBytes', async () => {
    const f = await ingest(Readable.from([Buffer.alloc(1000)]), { maxBytes: 1000, tempDir });
    expect(f.size).toBe(1000);
    await f.cleanup();
  });

  it('refuses a spoofed declaration as soon as the head is in, leaving no temp file', async () => {
    const png = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#ff0000' } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    let pulled = 0;
    const source = new Readable({
      read() {
        this.push(pulled++ === 0 ? png : pulled < 1000 ? Buffer.alloc(16 * 1024) : null);
      },
    });
    const err = await ingest(source, { maxBytes: 1 << 30, declaredType: 'image/jpeg', tempDir }).catch((e: unknown) => e);
    expect(isMediaError(err, MediaErrorCode.TypeMismatch)).toBe(true);
    expect(pulled).toBeLessThan(10);
    expect(await fs.readdir(tempDir)).toEqual([]);
  });

  it('removes the temp file when the client stream fails', async () => {
    const source = new Readable({
      read() {
        this.push(Buffer.alloc(10_000));
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(ingest(source, { maxBytes: 1 << 20, tempDir })).rejects.toThrow('connection reset');
    expect(await fs.readdir(tempDir)).toEqual([]);
  });
});
