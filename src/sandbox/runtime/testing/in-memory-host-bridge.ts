// A HostBridge with real in-memory behaviour, for the runtime's tests and benchmark: a store with
// quotas, a Send API that records, and a fake internet behind an allow-list that re-checks every
// redirect. It never touches the network.
import { isIP } from 'node:net';
import type { FetchRequest, FetchResponse, HandoverCall, HostBridge, HostResult } from '../types';

export type FakeRoute = { status: number; headers?: Record<string, string>; body?: string } | { redirect: string } | { hang: true };

export interface InMemoryHostBridgeOptions {
  maxKeysPerPage?: number;
  maxValueBytes?: number;
  maxRedirects?: number;
  // Added to every call, to exercise the wall limit and concurrency.
  latencyMs?: number;
}

export class InMemoryHostBridge implements HostBridge {
  readonly sent: Array<{ pageId: string; message: unknown }> = [];
  readonly fetched: Array<{ pageId: string; url: string }> = [];
  readonly handovers: Array<{ pageId: string; call: HandoverCall }> = [];
  readonly unlinked: Array<{ pageId: string; psid: string }> = [];
  readonly routes = new Map<string, FakeRoute>();
  private readonly stores = new Map<string, Map<string, string>>();
  private readonly maxKeys: number;
  private readonly maxValueBytes: number;
  private readonly maxRedirects: number;
  latencyMs: number;

  constructor(options: InMemoryHostBridgeOptions = {}) {
    this.maxKeys = options.maxKeysPerPage ?? 100;
    this.maxValueBytes = options.maxValueBytes ?? 16 * 1024;
    this.maxRedirects = options.maxRedirects ?? 3;
    this.latencyMs = options.latencyMs ?? 0;
  }

  async send(pageId: string, message: unknown): Promise<HostResult<unknown>> {
    await this.delay();
    const m = message as { recipient?: { id?: unknown }; message?: unknown } | null;
    if (m === null || typeof m !== 'object' || typeof m.recipient?.id !== 'string' || m.message === undefined) {
      return { ok: false, error: { code: 'invalid_message', message: 'a message needs recipient.id and message' } };
    }
    this.sent.push({ pageId, message });
    return { ok: true, result: { recipient_id: m.recipient.id, message_id: `m_${this.sent.length}` } };
  }

  // Records control calls; no thread has an owner here.
  async handover(pageId: string, call: HandoverCall): Promise<HostResult<unknown>> {
    await this.delay();
    if (call.action === 'owner') return { ok: true, result: null };
    this.handovers.push({ pageId, call });
    return { ok: true, result: { success: true } };
  }

  async unlinkAccount(pageId: string, psid: string): Promise<HostResult<unknown>> {
    await this.delay();
    this.unlinked.push({ pageId, psid });
    return { ok: true, result: { result: 'unlink account success' } };
  }

  async storeGet(pageId: string, key: string): Promise<HostResult<unknown>> {
    await this.delay();
    const raw = this.stores.get(pageId)?.get(key);
    return { ok: true, result: raw === undefined ? null : JSON.parse(raw) };
  }

  async storeSet(pageId: string, key: string, value: unknown): Promise<HostResult<unknown>> {
    await this.delay();
    const raw = JSON.stringify(value);
    if (Buffer.byteLength(raw) > this.maxValueBytes) {
      return { ok: false, error: { code: 'quota_exceeded', message: `values are limited to ${this.maxValueBytes} bytes` } };
    }
    let store = this.stores.get(pageId);
    if (!store) this.stores.set(pageId, (store = new Map()));
    if (!store.has(key) && store.size >= this.maxKeys) {
      return { ok: false, error: { code: 'quota_exceeded', message: `a Page stores at most ${this.maxKeys} keys` } };
    }
    store.set(key, raw);
    return { ok: true, result: null };
  }

  async storeDelete(pageId: string, key: string): Promise<HostResult<unknown>> {
    await this.delay();
    return { ok: true, result: this.stores.get(pageId)?.delete(key) ?? false };
  }

  storeOf(pageId: string): Map<string, string> {
    return this.stores.get(pageId) ?? new Map();
  }

  async fetch(pageId: string, allowedHosts: readonly string[], request: FetchRequest): Promise<HostResult<FetchResponse>> {
    await this.delay();
    let url = request.url;
    for (let hop = 0; ; hop++) {
      const refused = refuseUrl(url, allowedHosts);
      if (refused) return { ok: false, error: { code: 'fetch_refused', message: refused } };
      this.fetched.push({ pageId, url });
      const route = this.routes.get(url);
      if (!route) return { ok: true, result: { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found' } };
      if ('hang' in route) return new Promise(() => {});
      if ('redirect' in route) {
        if (hop >= this.maxRedirects) return { ok: false, error: { code: 'fetch_refused', message: 'too many redirects' } };
        url = new URL(route.redirect, url).toString();
        continue;
      }
      return { ok: true, result: { status: route.status, headers: { ...route.headers }, body: route.body ?? '' } };
    }
  }

  private delay(): Promise<void> {
    return this.latencyMs > 0 ? new Promise((resolve) => setTimeout(resolve, this.latencyMs)) : Promise.resolve();
  }
}

// The real platform uses its SSRF-safe client (resolving DNS and checking every address); this
// stands in with the same rules on the literal URL.
function refuseUrl(raw: string, allowedHosts: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'invalid URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `scheme ${url.protocol} is not allowed`;
  if (url.username || url.password) return 'credentials in URLs are not allowed';
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host)) return `${host} is a private address`;
  if (!allowedHosts.includes(host)) return `${host} is not among the script's allowed hosts`;
  return undefined;
}

function isPrivateAddress(host: string): boolean {
  const kind = isIP(host);
  if (kind === 4) {
    const [a, b] = host.split('.').map(Number);
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a >= 224;
  }
  if (kind === 6) return host === '::' || host === '::1' || /^(fc|fd|fe8|fe9|fea|feb)/.test(host) || host.startsWith('::ffff:');
  return false;
}
