import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { Agent, Dispatcher, request } from 'undici';
import { pipeToNewFile } from '../../common/fs/pipe-to-new-file';
import { MediaError, MediaErrorCode } from '../processing/media.errors';
import { assertMediaKey, MediaStorage, PutBody, PutOptions, RangeOptions, resolveRange, StoredObjectStat } from './media-storage';
import { amzDate, EMPTY_SHA256, signV4, uriEncode } from './sigv4';

export interface S3MediaStorageOptions {
  // Scheme, host and port of an S3-compatible service; requests are path-style: <endpoint>/<bucket>/<key>.
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  // Prepended to every key inside the bucket, e.g. "media/".
  prefix?: string;
  // Streams of unknown length are spooled here first: S3 wants a Content-Length and we sign the payload hash.
  tempDir?: string;
  // How long connecting, and then waiting for a response's headers once the request is sent, may take (not a
  // download's body, which a slow reader paces). A stat or delete may run under a media hash's lock, holding a
  // database connection: undici's own default is 300 s. Ignored when `dispatcher` is given.
  timeoutMs?: number;
  dispatcher?: Dispatcher;
  now?: () => Date;
}

interface SendOptions {
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  payloadHash?: string;
}

export class S3MediaStorage implements MediaStorage {
  readonly tempDir: string;
  private readonly endpoint: URL;
  private readonly prefix: string;
  private readonly dispatcher: Dispatcher | undefined;

  constructor(private readonly opts: S3MediaStorageOptions) {
    this.endpoint = new URL(opts.endpoint);
    if (this.endpoint.pathname !== '/' || this.endpoint.search) {
      throw new Error(`S3 endpoint must be scheme://host[:port] only, got ${opts.endpoint}`);
    }
    this.prefix = opts.prefix ?? '';
    this.dispatcher =
      opts.dispatcher ?? (opts.timeoutMs ? new Agent({ headersTimeout: opts.timeoutMs, connect: { timeout: opts.timeoutMs } }) : undefined);
    this.tempDir = opts.tempDir ?? path.join(os.tmpdir(), 'switchboard-media');
  }

  async put(key: string, body: PutBody, opts: PutOptions): Promise<void> {
    assertMediaKey(key);
    let spooled: string | undefined;
    try {
      let payload: { hash: string; size: number; open: () => Buffer | Readable };
      if (body instanceof Uint8Array) {
        const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
        payload = { hash: createHash('sha256').update(buf).digest('hex'), size: buf.length, open: () => buf };
      } else {
        let file: string;
        if (body instanceof Readable) {
          await fs.mkdir(this.tempDir, { recursive: true });
          spooled = path.join(this.tempDir, `s3put-${randomUUID()}`);
          await pipeToNewFile(body, spooled);
          file = spooled;
        } else {
          file = body.file;
        }
        const { hash, size } = await hashFile(file);
        payload = { hash, size, open: () => createReadStream(file) };
      }
      const res = await this.send('PUT', key, {
        headers: { 'content-type': opts.contentType, 'content-length': String(payload.size) },
        body: payload.open(),
        payloadHash: payload.hash,
      });
      await this.expectOk(res, 'PUT', key);
      await res.body.dump();
    } catch (err) {
      throw asStorageError(err, `put ${key}`);
    } finally {
      if (spooled) await fs.rm(spooled, { force: true });
    }
  }

  async get(key: string, range?: RangeOptions): Promise<Readable> {
    assertMediaKey(key);
    // Shape check only (the size is the server's business); S3 would silently ignore a reversed range.
    const wanted = resolveRange(Number.MAX_SAFE_INTEGER, range);
    const headers: Record<string, string> = {};
    if (wanted) headers.range = `bytes=${wanted.start}-${range?.end ?? ''}`;
    try {
      const res = await this.send('GET', key, { headers });
      if (res.statusCode === 404) {
        await res.body.dump();
        throw new MediaError(MediaErrorCode.NotFound, `no object ${key}`);
      }
      if (res.statusCode === 416) {
        await res.body.dump();
        throw new MediaError(MediaErrorCode.InvalidRange, `range ${headers.range} not satisfiable for ${key}`);
      }
      await this.expectOk(res, 'GET', key);
      if (wanted && res.statusCode !== 206) {
        await res.body.dump();
        throw new MediaError(MediaErrorCode.Storage, `GET ${key}: asked for a range, got status ${res.statusCode}`);
      }
      return res.body;
    } catch (err) {
      throw asStorageError(err, `get ${key}`);
    }
  }

  async stat(key: string): Promise<StoredObjectStat | null> {
    assertMediaKey(key);
    try {
      const res = await this.send('HEAD', key);
      await res.body.dump();
      if (res.statusCode === 404) return null;
      await this.expectOk(res, 'HEAD', key);
      const size = Number(res.headers['content-length']);
      if (!Number.isSafeInteger(size)) throw new MediaError(MediaErrorCode.Storage, `HEAD ${key}: no content-length`);
      return { size };
    } catch (err) {
      throw asStorageError(err, `stat ${key}`);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    assertMediaKey(key);
    try {
      const res = await this.send('DELETE', key);
      if (res.statusCode === 404) {
        await res.body.dump();
        return;
      }
      await this.expectOk(res, 'DELETE', key);
      await res.body.dump();
    } catch (err) {
      throw asStorageError(err, `delete ${key}`);
    }
  }

  private async send(method: string, key: string, opts: SendOptions = {}): Promise<Dispatcher.ResponseData> {
    const objectPath = `/${uriEncode(this.opts.bucket)}/${uriEncode(this.prefix + key, true)}`;
    const url = new URL(objectPath, this.endpoint);
    const payloadHash = opts.payloadHash ?? EMPTY_SHA256;
    const headers: Record<string, string> = {
      host: url.host,
      'x-amz-date': amzDate(this.opts.now?.() ?? new Date()),
      'x-amz-content-sha256': payloadHash,
      ...opts.headers,
    };
    if (this.opts.sessionToken) headers['x-amz-security-token'] = this.opts.sessionToken;
    const signed = signV4(
      { method, path: objectPath, headers, payloadHash },
      { accessKeyId: this.opts.accessKeyId, secretAccessKey: this.opts.secretAccessKey },
      { region: this.opts.region, service: 's3', amzDate: headers['x-amz-date'] },
    );
    return request(url, {
      method: method as Dispatcher.HttpMethod,
      headers: { ...headers, authorization: signed.authorization },
      body: opts.body,
      dispatcher: this.dispatcher,
    });
  }

  private async expectOk(res: Dispatcher.ResponseData, method: string, key: string): Promise<void> {
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    const text = method === 'HEAD' ? '' : (await res.body.text()).slice(0, 2000);
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    throw new MediaError(MediaErrorCode.Storage, `${method} ${key}: HTTP ${res.statusCode}${code ? ` ${code}` : ''}`);
  }
}

async function hashFile(file: string): Promise<{ hash: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { hash: hash.digest('hex'), size };
}

function asStorageError(err: unknown, what: string): MediaError {
  if (err instanceof MediaError) return err;
  return new MediaError(MediaErrorCode.Storage, `${what} failed: ${(err as Error).message}`, { cause: err });
}
