// Public types of the sandbox runtime. Plain TypeScript: no Nest, no isolated-vm (the parent
// process never loads isolated-vm; only the forked workers do).

export const HANDLER_NAMES = [
  'onMessage',
  'onPostback',
  'onDelivery',
  'onRead',
  'onReaction',
  'onEdit',
  'onTemplate',
  'onFeedback',
  'onResponseFeedback',
  'onOptin',
  'onReferral',
  'onEcho',
  'onAccountLinking',
  'onHandover',
  'onStandby',
  'onPolicyEnforcement',
] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

export interface SandboxLimits {
  // Isolate heap limit (isolated-vm memoryLimit). Changing it for a warm isolate cold-starts a new one.
  memoryMb: number;
  // CPU time of one event's handler, measured with isolate.cpuTime.
  cpuMs: number;
  // CPU time of the module's top-level code on a cold start (separate from cpuMs).
  initCpuMs: number;
  // Wall time of one invocation, cold start and host calls included.
  wallMs: number;
  maxSends: number;
  // ctx.send + ctx.store.* + ctx.fetch together.
  maxHostCalls: number;
  maxLogEntries: number;
  // UTF-8 bytes of all log messages of one invocation.
  maxLogBytes: number;
  // JSON size of one host-call payload (a message, a stored value, a fetch request).
  maxPayloadBytes: number;
}

export type LimitKind = 'cpu' | 'wall' | 'memory' | 'sends' | 'host_calls';

export type InvocationErrorCode =
  | 'script_error' // the handler threw or rejected
  | 'init_error' // the module's top-level code threw
  | 'syntax_error'
  | 'bad_module' // imports, or no default export object
  | 'limit_exceeded' // outcome 'limit'; see `limit`
  | 'invalid_request' // rejected by the pool before running (handler name, sizes, JSON)
  | 'worker_crashed' // the worker died while only this script version had invocations in flight on it, or this version's isolate reported the fatal error
  | 'worker_crashed_shared' // it died with several versions in flight and none named, or another version's isolate reported it
  | 'overloaded'
  | 'quarantined' // this version was in flight when its worker died, too often
  | 'pool_stopped'
  | 'internal';

export interface InvocationError {
  code: InvocationErrorCode;
  message: string;
  stack?: string;
}

export type LogLevel = 'log' | 'info' | 'warn' | 'error' | 'debug';
export interface LogEntry {
  level: LogLevel;
  message: string;
  ts: number; // epoch ms
}

export interface InvocationRequest {
  pageId: string;
  // Versions are immutable: one id, one source. The source is sent to a worker only when it lacks it.
  scriptVersionId: string;
  source: string;
  handler: HandlerName;
  // A Messenger messaging event: plain JSON.
  event: unknown;
  // Hosts the script version declared; handed to HostBridge.fetch, which enforces them.
  allowedHosts?: readonly string[];
  limits?: Partial<SandboxLimits>;
}

export interface InvocationResult {
  outcome: 'ok' | 'error' | 'limit';
  limit?: LimitKind;
  error?: InvocationError;
  // False when the script exports no function for this handler (outcome stays 'ok').
  handled: boolean;
  logs: LogEntry[];
  logsTruncated: boolean;
  sends: number;
  hostCalls: number;
  // Handler CPU time (cold-start module evaluation excluded).
  cpuMs: number;
  // Measured in the worker from the start of the invocation (cold start included); IPC excluded.
  wallMs: number;
  coldStart: boolean;
  // How the handler was entered: 'sync' (applySync, a trusted warm isolate) or 'async' (under the cpuTime watchdog).
  entry?: 'sync' | 'async';
  // Worker-side cold start: isolate, context, bootstrap, compile, module evaluation.
  initMs?: number;
}

export type SyntaxCheckResult = { ok: true } | { ok: false; message: string; line: number; column: number };

export interface HostError {
  code: string;
  message: string;
}
export type HostResult<T> = { ok: true; result: T } | { ok: false; error: HostError };

export interface FetchRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}
export interface FetchResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

// Implemented by the platform in the parent process. Every value is a JSON copy made from the
// script's arguments; pageId always comes from the invocation, never from the script.
// ctx.handover's calls (Messenger's handover protocol) as the script's app: `owner` answers the thread's controller.
export const HANDOVER_ACTIONS = ['pass', 'take', 'request', 'release', 'owner'] as const;
export interface HandoverCall {
  action: (typeof HANDOVER_ACTIONS)[number];
  recipient: string;
  target_app_id?: string;
  metadata?: string;
}

export interface HostBridge {
  send(pageId: string, message: unknown): Promise<HostResult<unknown>>;
  handover(pageId: string, call: HandoverCall): Promise<HostResult<unknown>>;
  // ctx.unlinkAccount(psid): Messenger's Account Unlink API (POST /me/unlink_accounts) as the script's app.
  unlinkAccount(pageId: string, psid: string): Promise<HostResult<unknown>>;
  storeGet(pageId: string, key: string): Promise<HostResult<unknown>>;
  storeSet(pageId: string, key: string, value: unknown): Promise<HostResult<unknown>>;
  storeDelete(pageId: string, key: string): Promise<HostResult<unknown>>;
  // The bridge enforces allowedHosts, SSRF rules and redirects; the script sees only the copy returned.
  fetch(pageId: string, allowedHosts: readonly string[], request: FetchRequest): Promise<HostResult<FetchResponse>>;
}

export interface WorkerExitInfo {
  index: number;
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  reason: 'exit' | 'heartbeat' | 'fatal';
  message?: string;
  failedInvocations: number;
}

export interface SandboxPoolOptions {
  workers: number;
  defaults?: Partial<SandboxLimits>;
  host: HostBridge;
  // Warm isolates kept per worker (LRU).
  maxWarmIsolatesPerWorker?: number;
  // A warm isolate unused this long is disposed.
  idleIsolateTtlMs?: number;
  // Sources a worker keeps for cold starts; past it the worker asks the pool again.
  maxSourceCacheBytesPerWorker?: number;
  maxSourceBytes?: number;
  maxEventBytes?: number;
  // Invocations in flight (queued or running) per worker before invoke answers 'overloaded'.
  maxInFlightPerWorker?: number;
  // Worker deaths a script version may be blamed for (shared among the versions in flight) before
  // invoke refuses it with 'quarantined', until dispose(version) or 10 minutes pass. A Page blamed for twice as many
  // (its versions' crashes that were surely its own, new versions included) is refused for 10 minutes. 0 disables.
  quarantineAfterCrashes?: number;
  // ctx.fetch calls one invocation may make (counted here, per invocation: never shared with another event of
  // the Page, a dry run or the script's own bookkeeping). Unlimited when unset.
  maxFetchesPerInvocation?: number;
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  // Extra node flags for the workers (e.g. --max-old-space-size); --no-node-snapshot is always set.
  workerExecArgv?: string[];
  onWorkerExit?: (info: WorkerExitInfo) => void;
  // A HostBridge method threw (the script only sees code 'host_error').
  onHostError?: (error: unknown, op: string, pageId: string) => void;
}
