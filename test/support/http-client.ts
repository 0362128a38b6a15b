import { request } from 'undici';

export interface HttpResult<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

export interface CallOptions {
  token?: string;
  headers?: Record<string, string>;
  form?: Record<string, string>;
  raw?: string | Buffer;
}

// A thin client over real HTTP: tests see exactly what a bot or a browser would.
export function httpClient(base: string) {
  async function call<T = any>(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let payload: string | Buffer | undefined;
    if (opts.raw !== undefined) payload = opts.raw;
    else if (opts.form) {
      payload = new URLSearchParams(opts.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await request(`${base}${path}`, { method: method as 'GET', headers, body: payload });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.statusCode, headers: res.headers, body: parsed as T, text };
  }
  return {
    get: <T = any>(path: string, opts?: CallOptions) => call<T>('GET', path, undefined, opts),
    post: <T = any>(path: string, body?: unknown, opts?: CallOptions) => call<T>('POST', path, body, opts),
    put: <T = any>(path: string, body?: unknown, opts?: CallOptions) => call<T>('PUT', path, body, opts),
    patch: <T = any>(path: string, body?: unknown, opts?: CallOptions) => call<T>('PATCH', path, body, opts),
    delete: <T = any>(path: string, opts?: CallOptions) => call<T>('DELETE', path, undefined, opts),
    call,
  };
}

export type HttpClient = ReturnType<typeof httpClient>;
