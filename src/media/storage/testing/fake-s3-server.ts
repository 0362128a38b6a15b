import { createHash, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAuthorization, signV4, UNSIGNED_PAYLOAD } from '../sigv4';

// A tiny S3-compatible server for tests, on 127.0.0.1 only: path-style PUT, GET (with Range),
// HEAD and DELETE, objects kept in memory, every request's SigV4 signature checked against the
// same secret the client holds. It is a contract double, not an S3 emulator.

export interface FakeS3Options {
  bucket?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface FakeS3Object {
  body: Buffer;
  contentType: string;
}

export interface FakeS3Server {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly objects: Map<string, FakeS3Object>;
  readonly log: Array<{ method: string; path: string; status: number }>;
  close(): Promise<void>;
}

export async function startFakeS3(opts: FakeS3Options = {}): Promise<FakeS3Server> {
  const bucket = opts.bucket ?? 'switchboard-test';
  const region = opts.region ?? 'us-east-1';
  const accessKeyId = opts.accessKeyId ?? 'AKIDFAKES3TEST';
  const secretAccessKey = opts.secretAccessKey ?? 'fake/secret/for/tests';
  const objects = new Map<string, FakeS3Object>();
  const log: FakeS3Server['log'] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = handle(req, Buffer.concat(chunks), res);
      log.push({ method: req.method ?? '', path: req.url ?? '', status });
    });
  });

  function reply(res: http.ServerResponse, status: number, code?: string, headers: Record<string, string> = {}): number {
    const body = code ? `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code></Error>` : '';
    res.writeHead(status, {
      ...headers,
      ...(code ? { 'content-type': 'application/xml' } : {}),
      'content-length': String(Buffer.byteLength(body)),
    });
    res.end(body);
    return status;
  }

  function handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): number {
    const rawUrl = req.url ?? '/';
    const [rawPath, rawQuery = ''] = rawUrl.split('?', 2);
    const authError = verify(req, rawPath, rawQuery);
    if (authError) return reply(res, 403, authError);
    const segments = rawPath.split('/').slice(1);
    if (decodeURIComponent(segments[0] ?? '') !== bucket) return reply(res, 404, 'NoSuchBucket');
    const key = segments.slice(1).map(decodeURIComponent).join('/');
    if (!key) return reply(res, 400, 'InvalidRequest');

    switch (req.method) {
      case 'PUT': {
        const declared = String(req.headers['x-amz-content-sha256']);
        const actual = createHash('sha256').update(body).digest('hex');
        if (declared !== UNSIGNED_PAYLOAD && declared !== actual) return reply(res, 400, 'XAmzContentSHA256Mismatch');
        objects.set(key, { body, contentType: String(req.headers['content-type'] ?? 'binary/octet-stream') });
        return reply(res, 200, undefined, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
      }
      case 'GET':
      case 'HEAD': {
        const obj = objects.get(key);
        if (!obj) return req.method === 'HEAD' ? reply(res, 404) : reply(res, 404, 'NoSuchKey');
        const common = { 'content-type': obj.contentType, 'accept-ranges': 'bytes' };
        if (req.method === 'HEAD') {
          res.writeHead(200, { ...common, 'content-length': String(obj.body.length) });
          res.end();
          return 200;
        }
        const range = req.headers.range;
        if (range) {
          const r = parseRange(String(range), obj.body.length);
          if (r === 'unsatisfiable') return reply(res, 416, 'InvalidRange', { 'content-range': `bytes */${obj.body.length}` });
          if (r) {
            const part = obj.body.subarray(r.start, r.end + 1);
            res.writeHead(206, {
              ...common,
              'content-length': String(part.length),
              'content-range': `bytes ${r.start}-${r.end}/${obj.body.length}`,
            });
            res.end(part);
            return 206;
          }
        }
        res.writeHead(200, { ...common, 'content-length': String(obj.body.length) });
        res.end(obj.body);
        return 200;
      }
      case 'DELETE':
        objects.delete(key);
        return reply(res, 204);
      default:
        return reply(res, 405, 'MethodNotAllowed');
    }
  }

  function verify(req: http.IncomingMessage, rawPath: string, rawQuery: string): string | null {
    const auth = parseAuthorization(String(req.headers.authorization ?? ''));
    if (!auth) return 'AccessDenied';
    if (auth.accessKeyId !== accessKeyId) return 'InvalidAccessKeyId';
    const date = String(req.headers['x-amz-date'] ?? '');
    if (auth.region !== region || auth.service !== 's3' || date.slice(0, 8) !== auth.day) return 'AuthorizationHeaderMalformed';
    for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
      if (!auth.signedHeaders.includes(required)) return 'AccessDenied';
    }
    const headers: Record<string, string> = {};
    for (const name of auth.signedHeaders) {
      const value = req.headers[name];
      if (value === undefined) return 'AccessDenied';
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const query = rawQuery
      ? rawQuery.split('&').map((p) => {
          const [k, v = ''] = p.split('=', 2);
          return [decodeURIComponent(k), decodeURIComponent(v)] as [string, string];
        })
      : [];
    const expected = signV4(
      { method: req.method ?? '', path: rawPath, query, headers, payloadHash: String(req.headers['x-amz-content-sha256']) },
      { accessKeyId, secretAccessKey },
      { region, service: 's3', amzDate: date },
    ).signature;
    const ok = timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(auth.signature, 'hex'));
    return ok ? null : 'SignatureDoesNotMatch';
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region,
    accessKeyId,
    secretAccessKey,
    objects,
    log,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function parseRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
