import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { pipeToNewFile } from '../../common/fs/pipe-to-new-file';
import { assertDeclaredType, DETECT_HEAD_BYTES, DetectedType, detectType } from './detect-type';
import { MediaError, MediaErrorCode } from './media.errors';

export interface IngestOptions {
  maxBytes: number;
  // A lower cap once the bytes say it is an image (Graph: 8 MB for an image fetched by URL).
  imageMaxBytes?: number;
  declaredType?: string;
  // Normally MediaStorage.tempDir, so the spool sits next to the store.
  tempDir: string;
}

export interface IngestedFile {
  path: string;
  sha256: string;
  size: number;
  type: DetectedType;
  // Idempotent; the caller owns the temp file until it calls this.
  cleanup(): Promise<void>;
}

// Streams an upload to a temp file while hashing and counting it; memory stays at one chunk plus
// the first DETECT_HEAD_BYTES. The type is decided as soon as those bytes are in, so a spoofed
// upload is cut off early rather than after the whole body. Any failure removes the temp file.
export async function ingest(source: Readable, opts: IngestOptions): Promise<IngestedFile> {
  if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 0)
    throw new Error(`maxBytes must be a non-negative integer, got ${opts.maxBytes}`);
  await fs.mkdir(opts.tempDir, { recursive: true });
  const tmp = path.join(opts.tempDir, `ingest-${randomUUID()}.part`);
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headLength = 0;
  let size = 0;
  let type: DetectedType | undefined;
  let cap = opts.maxBytes;
  const tooLarge = () => new MediaError(MediaErrorCode.TooLarge, `upload exceeds ${cap} bytes`, { limit: cap });

  const decide = async () => {
    type = await detectType(Buffer.concat(head, headLength));
    assertDeclaredType(opts.declaredType, type);
    head.length = 0;
    if (type.kind === 'image' && opts.imageMaxBytes !== undefined) cap = Math.min(cap, opts.imageMaxBytes);
    if (size > cap) throw tooLarge();
  };

  const meter = new Transform({
    transform(data: Buffer | string, _enc: BufferEncoding, cb: TransformCallback) {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      size += chunk.length;
      if (size > cap) {
        cb(tooLarge());
        return;
      }
      hash.update(chunk);
      if (type !== undefined) {
        cb(null, chunk);
        return;
      }
      const take = Math.min(chunk.length, DETECT_HEAD_BYTES - headLength);
      head.push(chunk.subarray(0, take));
      headLength += take;
      if (headLength < DETECT_HEAD_BYTES) {
        cb(null, chunk);
        return;
      }
      decide().then(
        () => cb(null, chunk),
        (err: unknown) => cb(err as Error),
      );
    },
    flush(cb: TransformCallback) {
      if (type !== undefined) {
        cb();
        return;
      }
      decide().then(
        () => cb(),
        (err: unknown) => cb(err as Error),
      );
    },
  });

  await pipeToNewFile(source, tmp, meter);
  return {
    path: tmp,
    sha256: hash.digest('hex'),
    size,
    type: type!,
    cleanup: () => fs.rm(tmp, { force: true }),
  };
}
