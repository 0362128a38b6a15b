import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeToNewFile } from '../../common/fs/pipe-to-new-file';
import { MediaError, MediaErrorCode } from '../processing/media.errors';
import { assertMediaKey, MediaStorage, PutBody, PutOptions, RangeOptions, resolveRange, StoredObjectStat } from './media-storage';

export interface FsMediaStorageOptions {
  // Defaults to ./.data/media, resolved against the working directory.
  rootDir?: string;
}

export const DEFAULT_MEDIA_DIR = './.data/media';

// Local adapter: <root>/ab/cd/<sha256>/<variant>. Writes go to <root>/.tmp first and are renamed
// into place, so a reader sees either nothing or the whole object (rename is atomic on one volume).
export class FsMediaStorage implements MediaStorage {
  readonly rootDir: string;
  readonly tempDir: string;

  constructor(opts: FsMediaStorageOptions = {}) {
    this.rootDir = path.resolve(opts.rootDir ?? DEFAULT_MEDIA_DIR);
    this.tempDir = path.join(this.rootDir, '.tmp');
  }

  pathFor(key: string): string {
    assertMediaKey(key);
    const [hash, variant] = key.split('/');
    return path.join(this.rootDir, hash.slice(0, 2), hash.slice(2, 4), hash, variant);
  }

  async put(key: string, body: PutBody, _opts: PutOptions): Promise<void> {
    const target = this.pathFor(key);
    await fs.mkdir(this.tempDir, { recursive: true });
    const tmp = path.join(this.tempDir, `put-${randomUUID()}`);
    try {
      if (body instanceof Uint8Array) {
        await fs.writeFile(tmp, body, { flag: 'wx' });
      } else if (body instanceof Readable) {
        await pipeToNewFile(body, tmp);
      } else {
        await fs.copyFile(body.file, tmp, fs.constants.COPYFILE_EXCL);
      }
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(tmp, target).catch(async (err: NodeJS.ErrnoException) => {
        // The hash directory was removed (garbage collection) between mkdir and rename: once more.
        if (err.code !== 'ENOENT') throw err;
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.rename(tmp, target);
      });
    } catch (err) {
      await fs.rm(tmp, { force: true });
      if (err instanceof MediaError) throw err;
      throw new MediaError(MediaErrorCode.Storage, `put ${key} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async get(key: string, range?: RangeOptions): Promise<Readable> {
    const file = this.pathFor(key);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MediaError(MediaErrorCode.NotFound, `no object ${key}`);
      throw new MediaError(MediaErrorCode.Storage, `get ${key} failed: ${(err as Error).message}`, { cause: err });
    }
    // Size and bytes come from the same open file, so a concurrent replace cannot mix two versions.
    try {
      const { size } = await handle.stat();
      const r = resolveRange(size, range);
      return createReadStream('', { fd: handle, start: r?.start, end: r?.end, autoClose: true });
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async stat(key: string): Promise<StoredObjectStat | null> {
    try {
      const st = await fs.stat(this.pathFor(key));
      return { size: st.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new MediaError(MediaErrorCode.Storage, `stat ${key} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    const file = this.pathFor(key);
    await fs.rm(file, { force: true });
    // The last object of a hash takes its directory along; a directory still in use stays.
    await fs.rmdir(path.dirname(file)).catch(() => undefined);
  }
}
