// Host side of the sandbox: forks the worker processes, shards Pages to them and answers their
// host calls through the platform's HostBridge. Never loads isolated-vm itself.
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { resolveLimits } from './limits';
import { WORKER_CONFIG_ENV, type ChildMessage, type HostOp, type ParentMessage, type WorkerConfig } from './protocol';
import {
  HANDLER_NAMES,
  HANDOVER_ACTIONS,
  type FetchRequest,
  type HandoverCall,
  type HostBridge,
  type HostResult,
  type InvocationErrorCode,
  type InvocationRequest,
  type InvocationResult,
  type SandboxLimits,
  type SandboxPoolOptions,
  type SyntaxCheckResult,
  type WorkerExitInfo,
} from './types';

interface Pending {
  id: number;
  pageId: string;
  versionId: string;
  source: string;
  allowedHosts: readonly string[];
  limits: SandboxLimits;
  sends: number;
  hostCalls: number;
  fetches: number;
  done: boolean;
  resolve: (r: InvocationResult) => void;
}

interface Worker {
  index: number;
  child: ChildProcess | undefined;
  backlog: ParentMessage[]; // messages for a worker being respawned
  inflight: Map<number, Pending>;
  syntax: Map<number, (r: SyntaxCheckResult) => void>;
  sentSources: Set<string>;
  lastPong: number;
  ready: boolean;
  fatal: string | undefined;
  // The script version whose isolate reported `fatal`: the culprit, whatever else is in flight when the worker dies.
  fatalVersion: string | undefined;
  fatalPage: string | undefined;
  killedForHeartbeat: boolean;
}

const FETCH_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
const HANDLERS = new Set<string>(HANDLER_NAMES);
const MAX_ID_LENGTH = 256;
const MAX_STORE_KEY = 256;
const MAX_URL = 4096;
const MAX_SENT_SOURCES = 4096;
const STARTUP_GRACE_MS = 15_000;
const QUARANTINE_MS = 10 * 60_000;
// A Page's scripts, whatever their versions, may be blamed for this many times a version's allowance of crashes.
const PAGE_QUARANTINE_FACTOR = 2;
// A Page's host calls in flight at once, in units of its maxHostCalls: two runs' worth (a run's calls, and the calls
// an earlier run left behind).
const PAGE_CALLS_IN_FLIGHT = 2;

export class SandboxPool {
  private readonly workers: Worker[] = [];
  private readonly defaults: SandboxLimits;
  private readonly host: HostBridge;
  private readonly workerConfig: WorkerConfig;
  private readonly maxSourceBytes: number;
  private readonly maxEventBytes: number;
  private readonly maxInFlight: number;
  private readonly heartbeatMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly recentExits: number[] = [];
  private readonly quarantineAfter: number;
  private readonly blame = new Map<string, { score: number; since: number }>();
  // Crashes pinned on a Page (its version reported the fatal error, or ran alone): kept across its versions, since
  // dispose() forgets a version's blame and a new upload is a new version.
  private readonly pageBlame = new Map<string, { score: number; since: number }>();
  // Host calls of each Page running in the bridge now, across its invocations: a call the handler did not await
  // outlives its run (its answer is dropped, its work is not), so a script that fires calls and returns would pile
  // them up event after event. Bounded by PAGE_CALLS_IN_FLIGHT.
  private readonly pageCalls = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private seq = 0;
  private syntaxTurn = 0;
  private started = false;
  private stopping = false;

  constructor(private readonly options: SandboxPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1 || options.workers > 64) {
      throw new RangeError('SandboxPool: workers must be an integer in [1, 64]');
    }
    this.defaults = resolveLimits(options.defaults);
    this.host = options.host;
    this.workerConfig = {
      maxWarmIsolates: options.maxWarmIsolatesPerWorker ?? 32,
      idleIsolateTtlMs: options.idleIsolateTtlMs ?? 10 * 60_000,
      maxSourceCacheBytes: options.maxSourceCacheBytesPerWorker ?? 64 * 1024 * 1024,
    };
    this.maxSourceBytes = options.maxSourceBytes ?? 1024 * 1024;
    this.maxEventBytes = options.maxEventBytes ?? 256 * 1024;
    this.maxInFlight = options.maxInFlightPerWorker ?? 1000;
    this.quarantineAfter = options.quarantineAfterCrashes ?? 3;
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 10_000;
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('SandboxPool already started');
    this.started = true;
    const ready: Promise<void>[] = [];
    for (let i = 0; i < this.options.workers; i++) {
      const w: Worker = {
        index: i,
        child: undefined,
        backlog: [],
        inflight: new Map(),
        syntax: new Map(),
        sentSources: new Set(),
        lastPong: Date.now(),
        ready: false,
        fatal: undefined,
        fatalVersion: undefined,
        fatalPage: undefined,
        killedForHeartbeat: false,
      };
      this.workers.push(w);
      ready.push(this.spawn(w));
    }
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
    await Promise.all(ready);
  }

  // Stable Page → worker mapping, so a Page's warm isolate is found again.
  workerIndexFor(pageId: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < pageId.length; i++) {
      h ^= pageId.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return (h >>> 0) % this.options.workers;
  }

  workerPids(): Array<number | undefined> {
    return this.workers.map((w) => w.child?.pid);
  }

  invoke(req: InvocationRequest): Promise<InvocationResult> {
    const refused = (code: InvocationErrorCode, message: string) => Promise.resolve(errorResult(code, message));
    if (!this.started || this.stopping) return refused('pool_stopped', 'the sandbox pool is not running');
    if (!isId(req.pageId) || !isId(req.scriptVersionId)) return refused('invalid_request', 'pageId and scriptVersionId must be non-empty strings');
    if (!HANDLERS.has(req.handler)) return refused('invalid_request', `unknown handler ${String(req.handler)}`);
    if (typeof req.source !== 'string' || Buffer.byteLength(req.source) > this.maxSourceBytes) {
      return refused('invalid_request', `source must be a string of at most ${this.maxSourceBytes} bytes`);
    }
    let eventJson: string | undefined;
    try {
      eventJson = JSON.stringify(req.event);
    } catch {
      eventJson = undefined;
    }
    if (eventJson === undefined || req.event === null || typeof req.event !== 'object') {
      return refused('invalid_request', 'event must be a JSON object');
    }
    if (Buffer.byteLength(eventJson) > this.maxEventBytes) return refused('invalid_request', `event over ${this.maxEventBytes} bytes`);
    let limits: SandboxLimits;
    try {
      limits = req.limits ? resolveLimits(this.defaults, req.limits) : this.defaults;
    } catch (e) {
      return refused('invalid_request', (e as Error).message);
    }
    if (this.isQuarantined(this.blame, req.scriptVersionId, this.quarantineAfter)) {
      return refused('quarantined', 'this script version was running each time its sandbox worker died; it is refused for a while');
    }
    if (this.isQuarantined(this.pageBlame, req.pageId, PAGE_QUARANTINE_FACTOR * this.quarantineAfter)) {
      return refused('quarantined', "this Page's scripts crashed their sandbox worker again and again; they are refused for a while");
    }
    const w = this.workers[this.workerIndexFor(req.pageId)];
    if (w.inflight.size >= this.maxInFlight) return refused('overloaded', 'too many invocations in flight on this worker');

    const id = ++this.seq;
    const msg: ParentMessage = { t: 'inv', id, p: req.pageId, v: req.scriptVersionId, h: req.handler, e: eventJson, l: limits };
    if (!w.sentSources.has(req.scriptVersionId)) {
      msg.s = req.source;
      if (w.sentSources.size >= MAX_SENT_SOURCES) w.sentSources.clear();
      w.sentSources.add(req.scriptVersionId);
    }
    return new Promise<InvocationResult>((resolve) => {
      w.inflight.set(id, {
        id,
        pageId: req.pageId,
        versionId: req.scriptVersionId,
        source: req.source,
        allowedHosts: Object.freeze([...(req.allowedHosts ?? [])]),
        limits,
        sends: 0,
        hostCalls: 0,
        fetches: 0,
        done: false,
        resolve,
      });
      this.post(w, msg);
    });
  }

  checkSyntax(source: string): Promise<SyntaxCheckResult> {
    if (!this.started || this.stopping) return Promise.reject(new Error('the sandbox pool is not running'));
    if (typeof source !== 'string' || Buffer.byteLength(source) > this.maxSourceBytes) {
      return Promise.resolve({ ok: false, message: `source must be a string of at most ${this.maxSourceBytes} bytes`, line: 1, column: 1 });
    }
    const w = this.workers[this.syntaxTurn++ % this.workers.length];
    const id = ++this.seq;
    return new Promise((resolve) => {
      w.syntax.set(id, resolve);
      this.post(w, { t: 'syntax', id, s: source });
    });
  }

  // Drops the warm isolates (and cached source) of a script version on every worker.
  dispose(scriptVersionId: string): void {
    this.blame.delete(scriptVersionId);
    for (const w of this.workers) {
      w.sentSources.delete(scriptVersionId);
      this.post(w, { t: 'dispose', v: scriptVersionId });
    }
  }

  async stop(): Promise<void> {
    if (this.stopping || !this.started) return;
    this.stopping = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await Promise.all(
      this.workers.map(async (w) => {
        const child = w.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return this.failInflight(w, 'pool_stopped');
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        this.post(w, { t: 'stop' });
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  private spawn(w: Worker): Promise<void> {
    // Under jest this module is TypeScript: fork the .ts entry through a tiny @swc/core hook.
    const ext = path.extname(__filename);
    const entry = path.join(__dirname, `worker-main${ext === '.ts' ? '.ts' : '.js'}`);
    const execArgv = ['--no-node-snapshot'];
    if (ext === '.ts') execArgv.push('--require', path.join(__dirname, 'ts-register.js'));
    execArgv.push(...(this.options.workerExecArgv ?? []));
    // The worker gets no secrets: a minimal environment, not the platform's.
    const env: NodeJS.ProcessEnv = { [WORKER_CONFIG_ENV]: JSON.stringify(this.workerConfig) };
    if (process.env.NODE_ENV) env.NODE_ENV = process.env.NODE_ENV;
    const child = fork(entry, [], { execArgv, env, serialization: 'json', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    w.child = child;
    w.lastPong = Date.now();
    w.ready = false;
    w.fatal = undefined;
    w.fatalVersion = undefined;
    w.fatalPage = undefined;
    w.killedForHeartbeat = false;
    w.sentSources.clear();
    const ready = new Promise<void>((resolve) => {
      const onReady = (m: ChildMessage) => {
        if (m.t !== 'ready') return;
        child.off('message', onReady);
        w.ready = true;
        w.lastPong = Date.now();
        resolve();
      };
      child.on('message', onReady);
      child.once('exit', () => resolve());
    });
    child.on('message', (m: ChildMessage) => this.onMessage(w, m));
    child.on('error', () => {
      // A process that never started gets no 'exit'; one that died gets 'exit' next.
      if (child.pid === undefined) this.onExit(w, child, null, null);
    });
    child.once('exit', (code, signal) => this.onExit(w, child, code, signal));
    const backlog = w.backlog.splice(0);
    for (const m of backlog) this.post(w, m);
    return ready;
  }

  private post(w: Worker, msg: ParentMessage): void {
    const child = w.child;
    if (!child || !child.connected) {
      if (!this.stopping) w.backlog.push(msg);
      return;
    }
    child.send(msg, (err) => {
      // The channel closed under us; 'exit' fails the invocation.
      if (err) child.kill('SIGKILL');
    });
  }

  private onMessage(w: Worker, m: ChildMessage): void {
    switch (m.t) {
      case 'res': {
        const p = w.inflight.get(m.id);
        if (!p || p.done) return;
        p.done = true;
        w.inflight.delete(m.id);
        p.resolve(m.r);
        return;
      }
      case 'host':
        void this.onHostCall(w, m.id, m.r, m.op, m.j);
        return;
      case 'need': {
        const p = w.inflight.get(m.id);
        if (!p) return;
        w.sentSources.add(p.versionId);
        this.post(w, { t: 'src', v: p.versionId, s: p.source });
        return;
      }
      case 'syn': {
        const resolve = w.syntax.get(m.id);
        w.syntax.delete(m.id);
        resolve?.(m.r);
        return;
      }
      case 'pong':
        w.lastPong = Date.now();
        return;
      case 'fatal':
        w.fatal = m.message;
        w.fatalVersion = typeof m.v === 'string' ? m.v : undefined;
        w.fatalPage = typeof m.p === 'string' ? m.p : undefined;
        return;
      case 'ready':
        return;
    }
  }

  // The worker is trusted no more than it must be: a host call acts only for a Page whose
  // invocation is in flight on that very worker, and counts and shapes are checked again here.
  private async onHostCall(w: Worker, id: number, req: number, op: HostOp, json: string): Promise<void> {
    const p = w.inflight.get(id);
    if (!p || p.done) return;
    const reply = (r: HostResult<unknown>) => {
      if (p.done) return;
      let j: string;
      let ok = r.ok;
      try {
        j = r.ok ? (r.result === undefined ? '' : JSON.stringify(r.result)) : JSON.stringify({ code: String(r.error.code), message: String(r.error.message) });
      } catch {
        ok = false;
        j = JSON.stringify({ code: 'host_error', message: 'host call result is not JSON' });
      }
      this.post(w, { t: 'hres', id, r: req, ok, j });
    };
    const refuse = (code: string, message: string) => reply({ ok: false, error: { code, message } });
    if (++p.hostCalls > p.limits.maxHostCalls) return refuse('host_call_limit', 'too many host calls in one event');
    if (op === 'send' && ++p.sends > p.limits.maxSends) return refuse('send_limit', 'too many sends in one event');
    const maxFetches = this.options.maxFetchesPerInvocation ?? Infinity;
    if (op === 'fetch' && ++p.fetches > maxFetches) return refuse('fetch_refused', `at most ${maxFetches} fetches per event`);
    if (typeof json !== 'string' || Buffer.byteLength(json) > p.limits.maxPayloadBytes) return refuse('payload_too_large', 'payload too large');
    let arg: unknown;
    try {
      arg = json === '' ? undefined : JSON.parse(json);
    } catch {
      return refuse('invalid_argument', 'payload is not JSON');
    }
    const inFlight = this.pageCalls.get(p.pageId) ?? 0;
    const maxInFlight = PAGE_CALLS_IN_FLIGHT * p.limits.maxHostCalls;
    if (inFlight >= maxInFlight) return refuse('host_busy', `this page has ${maxInFlight} host calls in flight`);
    let result: Promise<HostResult<unknown>>;
    try {
      const call = this.hostCall(p, op, arg);
      if ('refused' in call) return refuse('invalid_argument', call.refused);
      result = call.result;
    } catch (e) {
      result = Promise.reject(e);
    }
    this.pageCalls.set(p.pageId, inFlight + 1);
    try {
      const r = await result;
      if (r === null || typeof r !== 'object' || typeof r.ok !== 'boolean') throw new TypeError(`HostBridge ${op} returned no HostResult`);
      reply(r);
    } catch (e) {
      this.options.onHostError?.(e, op, p.pageId);
      refuse('host_error', 'host call failed');
    } finally {
      const n = (this.pageCalls.get(p.pageId) ?? 1) - 1;
      if (n > 0) this.pageCalls.set(p.pageId, n);
      else this.pageCalls.delete(p.pageId);
    }
  }

  private hostCall(p: Pending, op: HostOp, arg: unknown): { result: Promise<HostResult<unknown>> } | { refused: string } {
    const o = (arg !== null && typeof arg === 'object' ? arg : {}) as Record<string, unknown>;
    const key = o.key;
    const keyOk = typeof key === 'string' && key.length > 0 && key.length <= MAX_STORE_KEY;
    switch (op) {
      case 'send':
        if (arg === undefined) return { refused: 'ctx.send needs a message' };
        return { result: this.host.send(p.pageId, arg) };
      case 'store.get':
        if (!keyOk) return { refused: `store keys are strings of 1 to ${MAX_STORE_KEY} characters` };
        return { result: this.host.storeGet(p.pageId, key) };
      case 'store.delete':
        if (!keyOk) return { refused: `store keys are strings of 1 to ${MAX_STORE_KEY} characters` };
        return { result: this.host.storeDelete(p.pageId, key) };
      case 'store.set':
        if (!keyOk) return { refused: `store keys are strings of 1 to ${MAX_STORE_KEY} characters` };
        if (o.value === undefined) return { refused: 'store values must be JSON (use delete to remove a key)' };
        return { result: this.host.storeSet(p.pageId, key, o.value) };
      case 'fetch': {
        const request = fetchRequest(o);
        if (typeof request === 'string') return { refused: request };
        return { result: this.host.fetch(p.pageId, p.allowedHosts, request) as Promise<HostResult<unknown>> };
      }
      case 'handover': {
        const call = handoverCall(o);
        if (typeof call === 'string') return { refused: call };
        return { result: this.host.handover(p.pageId, call) };
      }
      case 'account.unlink':
        if (typeof o.psid !== 'string' || !/^\d{1,20}$/.test(o.psid)) return { refused: "ctx.unlinkAccount needs the person's PSID" };
        return { result: this.host.unlinkAccount(p.pageId, o.psid) };
      default:
        return { refused: `unknown host call ${String(op)}` };
    }
  }

  private beat(): void {
    const t = Date.now();
    for (const w of this.workers) {
      const child = w.child;
      if (!child || !child.connected) continue;
      // A starting worker (loading isolated-vm) gets a startup grace instead of the heartbeat timeout.
      if (t - w.lastPong > (w.ready ? this.heartbeatTimeoutMs : Math.max(this.heartbeatTimeoutMs, STARTUP_GRACE_MS))) {
        w.killedForHeartbeat = true;
        child.kill('SIGKILL');
        continue;
      }
      this.post(w, { t: 'ping', n: t });
    }
  }

  private onExit(w: Worker, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (w.child !== child) return;
    w.child = undefined;
    if (!this.stopping) this.assignBlame(w);
    const failed = this.failInflight(w, this.stopping ? 'pool_stopped' : 'worker_crashed');
    for (const resolve of w.syntax.values()) resolve({ ok: false, message: 'syntax check failed: the sandbox worker exited', line: 1, column: 1 });
    w.syntax.clear();
    const info: WorkerExitInfo = {
      index: w.index,
      pid: child.pid,
      code,
      signal,
      reason: w.fatal !== undefined ? 'fatal' : w.killedForHeartbeat ? 'heartbeat' : 'exit',
      failedInvocations: failed,
    };
    if (w.fatal !== undefined) info.message = w.fatal;
    this.options.onWorkerExit?.(info);
    if (this.stopping) return;
    // A crash loop (a script that kills its worker every time) must not become a fork loop.
    const t = Date.now();
    this.recentExits.push(t);
    while (this.recentExits.length > 0 && this.recentExits[0] < t - 10_000) this.recentExits.shift();
    const delay = this.recentExits.length > 5 * this.workers.length ? 1000 : 0;
    setTimeout(() => {
      if (!this.stopping) void this.spawn(w);
    }, delay).unref();
  }

  // A worker died: the version whose isolate said it was fatal takes the blame; otherwise the versions it was running
  // share one unit.
  private assignBlame(w: Worker): void {
    if (this.quarantineAfter <= 0) return;
    const versions = w.fatalVersion !== undefined ? new Set([w.fatalVersion]) : new Set([...w.inflight.values()].map((p) => p.versionId));
    const t = Date.now();
    const add = (map: Map<string, { score: number; since: number }>, key: string, score: number) => {
      const b = map.get(key);
      if (!b || t - b.since > QUARANTINE_MS) map.set(key, { score, since: t });
      else b.score += score;
    };
    for (const v of versions) add(this.blame, v, 1 / versions.size);
    // A Page is charged only for a crash that is surely its own.
    const page = w.fatalVersion !== undefined ? w.fatalPage : versions.size === 1 ? [...w.inflight.values()][0]?.pageId : undefined;
    if (page !== undefined) add(this.pageBlame, page, 1);
  }

  private isQuarantined(map: Map<string, { score: number; since: number }>, key: string, after: number): boolean {
    const b = map.get(key);
    if (!b) return false;
    if (Date.now() - b.since > QUARANTINE_MS) {
      map.delete(key);
      return false;
    }
    return b.score >= after - 1e-9;
  }

  private failInflight(w: Worker, why: 'worker_crashed' | 'pool_stopped'): number {
    // A crash is pinned on a version when its isolate reported it, or when it was the only one in flight: the others
    // were bystanders.
    const versions = new Set([...w.inflight.values()].map((p) => p.versionId));
    const codeOf = (p: Pending): InvocationErrorCode => {
      if (why === 'pool_stopped') return why;
      if (w.fatalVersion !== undefined) return p.versionId === w.fatalVersion ? 'worker_crashed' : 'worker_crashed_shared';
      return versions.size > 1 ? 'worker_crashed_shared' : 'worker_crashed';
    };
    const n = w.inflight.size;
    for (const p of w.inflight.values()) {
      const code = codeOf(p);
      const message =
        code === 'pool_stopped'
          ? 'the sandbox pool stopped'
          : code === 'worker_crashed'
            ? 'the sandbox worker running this invocation exited'
            : 'the sandbox worker exited while running this and other scripts';
      p.done = true;
      p.resolve(errorResult(code, message));
    }
    w.inflight.clear();
    w.backlog = w.backlog.filter((m) => m.t === 'dispose');
    return n;
  }
}

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH;
}

function errorResult(code: InvocationErrorCode, message: string): InvocationResult {
  return {
    outcome: 'error',
    error: { code, message },
    handled: false,
    logs: [],
    logsTruncated: false,
    sends: 0,
    hostCalls: 0,
    cpuMs: 0,
    wallMs: 0,
    coldStart: false,
  };
}

function fetchRequest(o: Record<string, unknown>): FetchRequest | string {
  if (typeof o.url !== 'string' || o.url.length === 0 || o.url.length > MAX_URL) return 'ctx.fetch needs a URL';
  const method = typeof o.method === 'string' ? o.method : 'GET';
  if (!FETCH_METHODS.has(method)) return `ctx.fetch: method ${method} is not allowed`;
  let headers: Record<string, string> = {};
  if (o.headers !== undefined) {
    if (o.headers === null || typeof o.headers !== 'object' || Array.isArray(o.headers)) return 'ctx.fetch: headers must be an object';
    const entries = Object.entries(o.headers as Record<string, unknown>);
    if (entries.length > 64) return 'ctx.fetch: too many headers';
    if (entries.some(([, v]) => typeof v !== 'string')) return 'ctx.fetch: header values must be strings';
    // fromEntries defines own properties: a "__proto__" header stays a header.
    headers = Object.fromEntries(entries) as Record<string, string>;
  }
  if (o.body !== undefined && typeof o.body !== 'string') return 'ctx.fetch: body must be a string';
  const request: FetchRequest = { url: o.url, method, headers };
  if (typeof o.body === 'string') request.body = o.body;
  return request;
}

// The shape of a ctx.handover call; what it may do (roles, control, the metadata's length) is the Graph route's to say.
function handoverCall(o: Record<string, unknown>): HandoverCall | string {
  if (!(HANDOVER_ACTIONS as readonly unknown[]).includes(o.action)) return 'ctx.handover: unknown call';
  if (typeof o.recipient !== 'string' || !/^\d{1,20}$/.test(o.recipient)) return 'ctx.handover needs the person\'s PSID';
  const call: HandoverCall = { action: o.action as HandoverCall['action'], recipient: o.recipient };
  if (o.target_app_id !== undefined) {
    if (typeof o.target_app_id !== 'string' || !/^\d{1,20}$/.test(o.target_app_id)) return 'ctx.handover: target_app_id must be an app id';
    call.target_app_id = o.target_app_id;
  }
  if (o.metadata !== undefined) {
    if (typeof o.metadata !== 'string') return 'ctx.handover: metadata must be a string';
    call.metadata = o.metadata;
  }
  return call;
}
