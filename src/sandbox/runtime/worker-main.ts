// Entry of a sandbox worker process, forked by SandboxPool. Owns the isolates of the Pages
// sharded to it; a crash here takes only this worker's in-flight invocations with it.
import { SCRIPT_FILENAME } from './bootstrap';
import { HOST_OPS, WORKER_CONFIG_ENV, type ChildMessage, type HostOp, type ParentMessage, type WorkerConfig } from './protocol';
import { ScriptIsolate, checkModuleSyntax, errorMessage, parseSyntaxError, type IsolateFault } from './script-isolate';
import type {
  InvocationError,
  InvocationErrorCode,
  InvocationResult,
  LimitKind,
  LogEntry,
  LogLevel,
  SandboxLimits,
} from './types';

type InvMessage = Extract<ParentMessage, { t: 'inv' }>;

interface Slot {
  key: string;
  pageId: string;
  versionId: string;
  iso: ScriptIsolate | undefined;
  queue: Invocation[];
  running: boolean;
  waitingSource: boolean;
  retired: boolean;
  current: Invocation | undefined;
  lastUsed: number;
  // Warm invocations in a row, on the current isolate, that ended within half their CPU budget.
  cleanRuns: number;
}

interface Invocation {
  id: number;
  msg: InvMessage;
  limits: SandboxLimits;
  slot: Slot;
  iso: ScriptIsolate | undefined;
  start: bigint;
  deadline: bigint;
  phase: 'queued' | 'init' | 'run';
  // Handler entries run with applySync (see SYNC_AFTER_CLEAN_RUNS); which bound the running
  // entry's timeout is, so a timeout can be reported as the limit it stands for.
  sync: boolean;
  entryBound: 'cpu' | 'wall' | undefined;
  // The handler's outcome as the isolate reported it; it stands once the entry that reported it
  // has returned, i.e. once the isolate ran out of microtasks (an endless chain started by the
  // handler still ends at the CPU limit).
  resultJson: string | undefined;
  cpuStart: bigint;
  cpuBudget: bigint;
  coldStart: boolean;
  initMs: number | undefined;
  logs: LogEntry[];
  logBytes: number;
  logsTruncated: boolean;
  sends: number;
  hostCalls: number;
  done: boolean;
  settle: () => void;
  settled: Promise<void>;
}

const LIMIT_MESSAGES: Record<LimitKind, (l: SandboxLimits) => string> = {
  cpu: (l) => `CPU time limit of ${l.cpuMs} ms exceeded`,
  wall: (l) => `wall time limit of ${l.wallMs} ms exceeded`,
  memory: (l) => `memory limit of ${l.memoryMb} MB exceeded`,
  sends: (l) => `more than ${l.maxSends} sends in one event`,
  host_calls: (l) => `more than ${l.maxHostCalls} host calls in one event`,
};
const LOG_LEVELS = new Set<string>(['log', 'info', 'warn', 'error', 'debug']);
const TICK_MS = 2;
// Two ways into an isolate. Asynchronous entries run the script on isolated-vm's thread pool
// while this thread's watchdog reads isolate.cpuTime every 2 ms and disposes the isolate at the
// budget: precise even on a loaded machine, but each entry costs two thread hops (most of a warm
// invocation). Synchronous entries (applySync) run it on this thread with the CPU budget left as
// the entry's `timeout`: no hops, but that timeout is isolated-vm's own timer thread, which a
// loaded machine can leave asleep for tens of milliseconds past the budget, and meanwhile this
// event loop (other Pages, IPC, heartbeats) waits. So an isolate earns synchronous entries:
// after SYNC_AFTER_CLEAN_RUNS warm invocations in a row within half their budget, and only for
// budgets up to SYNC_MAX_CPU_MS. A cold start, any limit or a run over half its budget sends the
// slot back to asynchronous entries, so a script that turns hostile gets at most one imprecise
// event, and once it has hit a limit it stays on asynchronous entries (see distrusted).
const SYNC_AFTER_CLEAN_RUNS = 8;
// A (page, version) that ever hit a limit in this worker never gets synchronous entries again: otherwise a script
// could repeat "8 clean events, then a runaway" and have every runaway bounded only by the imprecise timer.
const distrusted = new Set<string>();
const DISTRUSTED_MAX = 10_000;
const SYNC_MAX_CPU_MS = 1000;
// Added to a synchronous entry's timeout: the watchdog's own granularity.
const SYNC_SLACK_MS = 2;

const config: WorkerConfig = {
  maxWarmIsolates: 32,
  idleIsolateTtlMs: 10 * 60_000,
  maxSourceCacheBytes: 64 * 1024 * 1024,
  ...(JSON.parse(process.env[WORKER_CONFIG_ENV] ?? '{}') as Partial<WorkerConfig>),
};

const slots = new Map<string, Slot>(); // insertion order = LRU order
const sources = new Map<string, string>();
let sourceBytes = 0;
const active = new Map<number, Invocation>();
let ticker: NodeJS.Timeout | undefined;

function post(message: ChildMessage): void {
  if (process.connected) process.send!(message);
}

const now = (): bigint => process.hrtime.bigint();
const msSince = (t: bigint): number => Number(now() - t) / 1e6;
const remainingMs = (inv: Invocation): number => Math.max(1, Number(inv.deadline - now()) / 1e6);

function onInvoke(msg: InvMessage): void {
  const key = `${msg.p}\u0000${msg.v}`;
  let slot = slots.get(key);
  if (slot) {
    slots.delete(key);
  } else {
    slot = {
      key,
      pageId: msg.p,
      versionId: msg.v,
      iso: undefined,
      queue: [],
      running: false,
      waitingSource: false,
      retired: false,
      current: undefined,
      lastUsed: Date.now(),
      cleanRuns: 0,
    };
  }
  slots.set(key, slot);
  if (msg.s !== undefined) rememberSource(msg.v, msg.s);
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  slot.queue.push({
    id: msg.id,
    msg,
    limits: msg.l,
    slot,
    iso: undefined,
    start: 0n,
    deadline: 0n,
    phase: 'queued',
    sync: false,
    entryBound: undefined,
    resultJson: undefined,
    cpuStart: 0n,
    cpuBudget: 0n,
    coldStart: false,
    initMs: undefined,
    logs: [],
    logBytes: 0,
    logsTruncated: false,
    sends: 0,
    hostCalls: 0,
    done: false,
    settle,
    settled,
  });
  void pump(slot);
}

// Invocations of one isolate run one after another; different isolates run concurrently.
async function pump(slot: Slot): Promise<void> {
  if (slot.running || slot.waitingSource) return;
  slot.running = true;
  while (slot.queue.length > 0) {
    const inv = slot.queue[0];
    const cold = !slot.iso || slot.iso.disposed || slot.iso.memoryMb !== inv.limits.memoryMb;
    if (cold && !sources.has(slot.versionId)) {
      slot.waitingSource = true;
      post({ t: 'need', id: inv.id });
      break;
    }
    slot.queue.shift();
    slot.current = inv;
    // The race lets the queue move on even if a disposed isolate never settles a promise.
    await Promise.race([execute(slot, inv), inv.settled]);
    slot.current = undefined;
  }
  slot.running = false;
  slot.lastUsed = Date.now();
  if (slot.retired && slot.queue.length === 0) dropSlot(slot);
  enforceLru();
}

async function execute(slot: Slot, inv: Invocation): Promise<void> {
  const l = inv.limits;
  inv.start = now();
  inv.deadline = inv.start + BigInt(Math.round(l.wallMs * 1e6));
  active.set(inv.id, inv);
  try {
    let iso = slot.iso;
    if (iso && (iso.disposed || iso.memoryMb !== l.memoryMb)) {
      dropIsolate(slot);
      iso = undefined;
    }
    if (!iso) {
      inv.coldStart = true;
      inv.phase = 'init';
      armWatchdog();
      iso = new ScriptIsolate(l.memoryMb, l, hooksFor(slot));
      slot.iso = iso;
      inv.iso = iso;
      inv.cpuStart = iso.cpuNs();
      inv.cpuBudget = BigInt(Math.round(l.initCpuMs * 1e6));
      touchSource(slot.versionId);
      const loaded = await iso.load(sources.get(slot.versionId)!, remainingMs(inv));
      if (inv.done) return;
      if (loaded.syntax !== undefined) {
        const at = parseSyntaxError(loaded.syntax);
        dropIsolate(slot);
        return finishError(inv, 'syntax_error', `${at.message} (line ${at.line}, column ${at.column})`);
      }
      if (loaded.refused !== undefined) {
        dropIsolate(slot);
        return finishError(inv, 'bad_module', loaded.refused);
      }
      inv.initMs = msSince(inv.start);
    }
    const warm = iso;
    inv.iso = warm;
    inv.phase = 'run';
    inv.cpuStart = warm.cpuNs();
    inv.cpuBudget = BigInt(Math.round(l.cpuMs * 1e6));
    const { h: handler, e: eventJson } = inv.msg;
    if (slot.cleanRuns >= SYNC_AFTER_CLEAN_RUNS && l.cpuMs <= SYNC_MAX_CPU_MS && !distrusted.has(slot.key)) {
      inv.sync = true;
      const entered = enter(inv, (timeoutMs) => warm.runSync(inv.id, handler, eventJson, slot.pageId, l, timeoutMs));
      if (!entered || inv.done) return;
      // The handler waits on a host call: its answer comes back through deliver().
      armWatchdog();
    } else {
      armWatchdog();
      await warm.run(inv.id, handler, eventJson, slot.pageId, l, remainingMs(inv));
      settleFromIsolate(inv);
    }
    if (!inv.done) await inv.settled;
  } catch (e) {
    fail(inv, e);
  }
}

function armWatchdog(): void {
  if (!ticker) ticker = setInterval(tick, TICK_MS);
}

// One synchronous entry into the isolate for `inv`; false if it failed (then `inv` is finished).
let inEntry = false;
function enter(inv: Invocation, call: (timeoutMs: number) => void): boolean {
  const used = phaseCpu(inv);
  if (used > inv.cpuBudget) {
    kill(inv, 'cpu');
    return false;
  }
  const wallLeft = remainingMs(inv);
  const cpuLeft = Number(inv.cpuBudget - used) / 1e6 + SYNC_SLACK_MS;
  inv.entryBound = cpuLeft < wallLeft ? 'cpu' : 'wall';
  inEntry = true;
  try {
    call(Math.min(cpuLeft, wallLeft));
  } catch (e) {
    fail(inv, e);
    return false;
  } finally {
    inEntry = false;
    inv.entryBound = undefined;
  }
  settleFromIsolate(inv);
  return true;
}

// Ends `inv` with the outcome its isolate reported, if it has reported one.
function settleFromIsolate(inv: Invocation): void {
  const json = inv.resultJson;
  if (json === undefined || inv.done) return;
  let parsed: { ok?: unknown; handled?: unknown; name?: unknown; message?: unknown; stack?: unknown };
  try {
    parsed = JSON.parse(json) as typeof parsed;
  } catch {
    return finishError(inv, 'internal', 'unreadable result from the isolate');
  }
  // What the run left allocated counts too: the isolate goes, and the run ends at the memory limit.
  if (inv.iso?.overMemory()) {
    dropIsolate(inv.slot);
    return finishLimit(inv, 'memory');
  }
  if (parsed.ok === true) return finish(inv, { outcome: 'ok', handled: parsed.handled === true });
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  finishError(inv, 'script_error', `${str(parsed.name) ?? 'Error'}: ${str(parsed.message) ?? ''}`, scriptStack(str(parsed.stack)));
}

// An isolate operation of `inv` failed.
function fail(inv: Invocation, e: unknown): void {
  if (inv.done) return;
  const slot = inv.slot;
  const fault: IsolateFault = inv.iso ? inv.iso.classify(e) : { kind: 'thrown', name: 'Error', message: errorMessage(e) };
  if (fault.kind === 'disposed') {
    dropIsolate(slot);
    if (fault.memory) return finishLimit(inv, 'memory');
    return finishError(inv, 'internal', 'isolate disposed during execution');
  }
  if (fault.kind === 'timeout') {
    // An async entry's timeout is the remaining wall time, a backstop behind the watchdog. A sync
    // entry's is wall time standing for the CPU budget left (the isolate runs on this thread); on
    // a busy machine it can fire a little before cpuTime reaches the budget.
    const kind: LimitKind = phaseCpu(inv) > inv.cpuBudget || inv.entryBound === 'cpu' ? 'cpu' : 'wall';
    dropIsolate(slot);
    return finishLimit(inv, kind);
  }
  if (inv.phase === 'init') {
    dropIsolate(slot);
    return finishError(inv, 'init_error', `${fault.name}: ${fault.message}`, scriptStack(fault.stack));
  }
  dropIsolate(slot);
  finishError(inv, 'internal', fault.message);
}

function phaseCpu(inv: Invocation): bigint {
  return inv.iso ? inv.iso.cpuNs() - inv.cpuStart : 0n;
}

// Watchdog: wall time including host calls, and CPU via isolate.cpuTime for async entries
// (catches loops in promise continuations, which no timeout option of an async apply covers).
function tick(): void {
  if (active.size === 0) {
    clearInterval(ticker);
    ticker = undefined;
    return;
  }
  const t = now();
  for (const inv of active.values()) {
    if (inv.done || !inv.iso) continue;
    if (t > inv.deadline) kill(inv, 'wall');
    else if (inv.phase !== 'queued' && phaseCpu(inv) > inv.cpuBudget) kill(inv, 'cpu');
  }
}

function kill(inv: Invocation, kind: LimitKind): void {
  if (inv.done) return;
  if (inv.phase === 'run' || kind !== 'cpu') finishLimit(inv, kind);
  else finishLimit(inv, kind, `CPU time limit of ${inv.limits.initCpuMs} ms exceeded by the module's top-level code`);
  dropIsolate(inv.slot);
}

function hooksFor(slot: Slot) {
  return {
    log(token: number, level: string, message: string): void {
      const inv = slot.current;
      if (!inv || inv.done || !(token === inv.id || (token === 0 && inv.phase === 'init'))) return;
      addLog(inv, LOG_LEVELS.has(level) ? (level as LogLevel) : 'log', message);
    },
    hostCall(token: number, req: number, op: string, json: string): void {
      const inv = slot.current;
      if (!inv || inv.done || inv.phase !== 'run' || token !== inv.id) return;
      const l = inv.limits;
      if (!(HOST_OPS as readonly string[]).includes(op)) return deliverError(inv, req, 'invalid_op', `unknown host call ${op}`);
      if (++inv.hostCalls > l.maxHostCalls) return kill(inv, 'host_calls');
      if (op === 'send') {
        if (inv.sends >= l.maxSends) return kill(inv, 'sends');
        inv.sends++;
      }
      if (Buffer.byteLength(json) > l.maxPayloadBytes) {
        return deliverError(inv, req, 'payload_too_large', `payload over ${l.maxPayloadBytes} bytes`);
      }
      post({ t: 'host', id: inv.id, r: req, op: op as HostOp, j: json });
    },
    done(token: number, json: string): void {
      const inv = slot.current;
      if (!inv || inv.done || inv.phase !== 'run' || token !== inv.id || inv.resultJson !== undefined) return;
      inv.resultJson = json;
    },
    catastrophic(message: string): void {
      // isolated-vm: the process can no longer be trusted. Tell the pool which version's isolate it was (its run may
      // be long over: "Script failed to terminate" comes seconds after a limit ended it), then die at once.
      post({ t: 'fatal', message, v: slot.versionId, p: slot.pageId });
      setImmediate(() => process.kill(process.pid, 'SIGKILL'));
    },
  };
}

function addLog(inv: Invocation, level: LogLevel, message: string): void {
  if (inv.logsTruncated) return;
  const l = inv.limits;
  if (inv.logs.length >= l.maxLogEntries) {
    inv.logsTruncated = true;
    return;
  }
  let bytes = Buffer.byteLength(message);
  const room = l.maxLogBytes - inv.logBytes;
  if (bytes > room) {
    inv.logsTruncated = true;
    message = Buffer.from(message).subarray(0, room).toString().replace(/\uFFFD$/, '');
    bytes = Buffer.byteLength(message);
    if (bytes === 0) return;
  }
  inv.logBytes += bytes;
  inv.logs.push({ level, message, ts: Date.now() });
}

function deliverError(inv: Invocation, req: number, code: string, message: string): void {
  deliver(inv, req, false, JSON.stringify({ code, message }));
}

function deliver(inv: Invocation, req: number, ok: boolean, json: string): void {
  const iso = inv.iso;
  if (inv.done || !iso) return;
  if (!inv.sync) {
    iso.deliver(req, ok, json, remainingMs(inv)).then(
      () => settleFromIsolate(inv),
      (e: unknown) => fail(inv, e),
    );
    return;
  }
  // An answer decided inside an entry (a refused host call) waits until the script's current
  // synchronous run ends, as an async answer would: it never re-enters the script mid-statement.
  if (inEntry) {
    queueMicrotask(() => deliver(inv, req, ok, json));
    return;
  }
  enter(inv, (timeoutMs) => iso.deliverSync(req, ok, json, timeoutMs));
}

function finishLimit(inv: Invocation, limit: LimitKind, message?: string): void {
  finish(inv, {
    outcome: 'limit',
    limit,
    handled: true,
    error: { code: 'limit_exceeded', message: message ?? LIMIT_MESSAGES[limit](inv.limits) },
  });
}

function finishError(inv: Invocation, code: InvocationErrorCode, message: string, stack?: string): void {
  const error: InvocationError = { code, message };
  if (stack) error.stack = stack;
  finish(inv, { outcome: 'error', handled: true, error });
}

function finish(inv: Invocation, r: Pick<InvocationResult, 'outcome' | 'limit' | 'error' | 'handled'>): void {
  if (inv.done) return;
  inv.done = true;
  active.delete(inv.id);
  const cpuNs = inv.phase === 'run' ? phaseCpu(inv) : 0n;
  const slot = inv.slot;
  if (r.outcome === 'limit') {
    if (distrusted.size >= DISTRUSTED_MAX) distrusted.clear();
    distrusted.add(slot.key);
  }
  if (inv.coldStart || r.outcome === 'limit' || cpuNs * 2n > inv.cpuBudget) slot.cleanRuns = 0;
  else slot.cleanRuns++;
  if (inv.logsTruncated) {
    inv.logs.push({ level: 'warn', message: '[sandbox] log output truncated: limit reached', ts: Date.now() });
  }
  const result: InvocationResult = {
    ...r,
    logs: inv.logs,
    logsTruncated: inv.logsTruncated,
    sends: inv.sends,
    hostCalls: inv.hostCalls,
    cpuMs: Number(cpuNs) / 1e6,
    wallMs: msSince(inv.start),
    coldStart: inv.coldStart,
  };
  if (inv.phase === 'run') result.entry = inv.sync ? 'sync' : 'async';
  if (inv.initMs !== undefined) result.initMs = inv.initMs;
  post({ t: 'res', id: inv.id, r: result });
  inv.settle();
}

// Keep the first line and the frames of the script itself, not the bootstrap's.
function scriptStack(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  const lines = stack.split('\n');
  const kept = [lines[0], ...lines.slice(1).filter((line) => line.includes(SCRIPT_FILENAME))];
  return kept.join('\n').slice(0, 8000);
}

function dropIsolate(slot: Slot): void {
  const iso = slot.iso;
  slot.iso = undefined;
  slot.cleanRuns = 0;
  // An invocation still holds the ScriptIsolate: its last CPU reading stays readable.
  iso?.dispose();
}

function dropSlot(slot: Slot): void {
  dropIsolate(slot);
  if (slots.get(slot.key) === slot) slots.delete(slot.key);
}

function enforceLru(): void {
  if (slots.size <= config.maxWarmIsolates) return;
  for (const slot of slots.values()) {
    if (slots.size <= config.maxWarmIsolates) break;
    if (!slot.running && slot.queue.length === 0) dropSlot(slot);
  }
}

function sweepIdle(): void {
  const cutoff = Date.now() - config.idleIsolateTtlMs;
  for (const slot of slots.values()) {
    if (!slot.running && slot.queue.length === 0 && slot.lastUsed < cutoff) dropSlot(slot);
  }
}

function rememberSource(versionId: string, source: string): void {
  const old = sources.get(versionId);
  if (old !== undefined) {
    sources.delete(versionId);
    sourceBytes -= old.length;
  }
  sources.set(versionId, source);
  sourceBytes += source.length;
  for (const [v, s] of sources) {
    if (sourceBytes <= config.maxSourceCacheBytes || v === versionId) break;
    sources.delete(v);
    sourceBytes -= s.length;
  }
  for (const slot of slots.values()) {
    if (slot.versionId === versionId && slot.waitingSource) {
      slot.waitingSource = false;
      void pump(slot);
    }
  }
}

function touchSource(versionId: string): void {
  const s = sources.get(versionId);
  if (s !== undefined) {
    sources.delete(versionId);
    sources.set(versionId, s);
  }
}

function onDispose(versionId: string): void {
  const s = sources.get(versionId);
  if (s !== undefined) {
    sources.delete(versionId);
    sourceBytes -= s.length;
  }
  for (const slot of [...slots.values()]) {
    if (slot.versionId !== versionId) continue;
    if (slot.running || slot.queue.length > 0) slot.retired = true;
    else dropSlot(slot);
  }
}

process.on('message', (msg: ParentMessage) => {
  switch (msg.t) {
    case 'inv':
      return onInvoke(msg);
    case 'hres': {
      const inv = active.get(msg.id);
      if (inv) deliver(inv, msg.r, msg.ok, msg.j);
      return;
    }
    case 'src':
      return rememberSource(msg.v, msg.s);
    case 'dispose':
      return onDispose(msg.v);
    case 'syntax':
      void checkModuleSyntax(msg.s).then(
        (r) => post({ t: 'syn', id: msg.id, r }),
        (e: unknown) => post({ t: 'syn', id: msg.id, r: { ok: false, message: errorMessage(e), line: 1, column: 1 } }),
      );
      return;
    case 'ping':
      return post({ t: 'pong', n: msg.n });
    case 'stop':
      for (const slot of slots.values()) dropIsolate(slot);
      process.disconnect();
      return;
  }
});
// An orphaned worker must not outlive the pool.
process.on('disconnect', () => process.exit(0));
setInterval(sweepIdle, Math.min(30_000, Math.max(1000, config.idleIsolateTtlMs / 2))).unref();
post({ t: 'ready' });
