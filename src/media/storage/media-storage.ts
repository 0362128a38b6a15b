import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { MediaError, MediaErrorCode } from '../processing/media.errors';

// What put() accepts: a local file (copied, never moved), a stream, or bytes already in memory.
export type PutBody = { file: string } | Readable | Uint8Array;

export interface PutOptions {
  contentType: string;
}

// Inclusive byte offsets, as in an HTTP Range header. `end` past the object is clamped.
export interface RangeOptions {
  start?: number;
  end?: number;
}

export interface StoredObjectStat {
  size: number;
}

// Content-addressed blob store: keys are `<sha256 of the original upload>/<variant>`.
// Writers never expose partial objects; identical uploads land on identical keys.
export interface MediaStorage {
  // Where uploads are spooled before they are hashed; on the same volume as the store when it is local.
  readonly tempDir: string;
  put(key: string, body: PutBody, opts: PutOptions): Promise<void>;
  // Rejects with media.not_found or media.invalid_range before any byte is streamed.
  get(key: string, range?: RangeOptions): Promise<Readable>;
  stat(key: string): Promise<StoredObjectStat | null>;
  exists(key: string): Promise<boolean>;
  // Idempotent: deleting a missing key is not an error.
  delete(key: string): Promise<void>;
}

const KEY_RE = /^[0-9a-f]{64}\/[a-z0-9][a-z0-9._-]{0,63}$/;
const VARIANT_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function mediaKey(sha256: string, variant: string): string {
  const key = `${sha256}/${variant}`;
  assertMediaKey(key);
  return key;
}

// The key becomes a path and a URL: only lowercase hex, a slash and a plain variant name get through.
export function assertMediaKey(key: string): void {
  if (!KEY_RE.test(key) || key.includes('..')) {
    throw new MediaError(MediaErrorCode.InvalidKey, `not a media key: ${JSON.stringify(key).slice(0, 100)}`);
  }
}

export function isVariantName(name: string): boolean {
  return VARIANT_RE.test(name) && !name.includes('..');
}

// Resolves a requested range against an object's size into inclusive offsets, or refuses it.
export function resolveRange(size: number, range: RangeOptions | undefined): { start: number; end: number } | null {
  if (!range || (range.start === undefined && range.end === undefined)) return null;
  const start = range.start ?? 0;
  const end = Math.min(range.end ?? size - 1, size - 1);
  if (!Number.isSafeInteger(start) || start < 0 || (range.end !== undefined && (!Number.isSafeInteger(range.end) || range.end < start))) {
    throw new MediaError(MediaErrorCode.InvalidRange, `bad range ${range.start}-${range.end}`);
  }
  if (start >= size) {
    throw new MediaError(MediaErrorCode.InvalidRange, `range starts at ${start}, object has ${size} bytes`);
  }
  return { start, end };
}

// Every error path removes its own temp file; only a killed process leaves one. Run at boot.
export async function removeStaleTempFiles(tempDir: string, olderThanMs = 60 * 60 * 1000, now = Date.now()): Promise<number> {
  let removed = 0;
  const names = await fs.readdir(tempDir).catch(() => [] as string[]);
  for (const name of names) {
    const file = path.join(tempDir, name);
    const st = await fs.stat(file).catch(() => null);
    if (st?.isFile() && now - st.mtimeMs > olderThanMs) {
      await fs.rm(file, { force: true });
      removed++;
    }
  }
  return removed;
}
