// One isolate running one script version for one Page. Worker-side only: this is the one file
// (with worker-main.ts) that loads isolated-vm.
import ivm = require('isolated-vm');
import { BOOTSTRAP_SOURCE, SCRIPT_FILENAME } from './bootstrap';
import type { SandboxLimits } from './types';

export interface IsolateHooks {
  log(inv: number, level: string, message: string): void;
  hostCall(inv: number, req: number, op: string, json: string): void;
  done(inv: number, resultJson: string): void;
  catastrophic(message: string): void;
}

// Why an isolate operation failed, as far as the runtime is concerned.
export type IsolateFault =
  | { kind: 'disposed'; memory: boolean }
  | { kind: 'timeout' }
  | { kind: 'thrown'; name: string; message: string; stack?: string };

export class ScriptIsolate {
  private readonly isolate: ivm.Isolate;
  private readonly context: ivm.Context;
  private readonly runRef: ivm.Reference<(...a: unknown[]) => void>;
  private readonly deliverRef: ivm.Reference<(...a: unknown[]) => void>;
  private readonly initRef: ivm.Reference<(ns: unknown) => string>;
  private module: ivm.Module | undefined;
  private lastCpuNs = 0n;

  constructor(
    readonly memoryMb: number,
    limits: SandboxLimits,
    hooks: IsolateHooks,
  ) {
    this.isolate = new ivm.Isolate({ memoryLimit: memoryMb, onCatastrophicError: (m) => hooks.catastrophic(m) });
    try {
      this.context = this.isolate.createContextSync();
      const log = new ivm.Callback(
        (inv: unknown, level: unknown, message: unknown) => {
          if (typeof inv === 'number' && typeof level === 'string' && typeof message === 'string') hooks.log(inv, level, message);
        },
        { sync: true },
      );
      const hostCall = new ivm.Callback(
        (inv: unknown, req: unknown, op: unknown, json: unknown) => {
          if (typeof inv === 'number' && typeof req === 'number' && typeof op === 'string' && typeof json === 'string') {
            hooks.hostCall(inv, req, op, json);
          }
        },
        { sync: true },
      );
      const done = new ivm.Callback(
        (inv: unknown, json: unknown) => {
          if (typeof inv === 'number' && typeof json === 'string') hooks.done(inv, json);
        },
        { sync: true },
      );
      const initial = JSON.stringify({ maxLogEntries: limits.maxLogEntries, maxLogBytes: limits.maxLogBytes });
      const api = this.context.evalClosureSync(BOOTSTRAP_SOURCE, [log, hostCall, done, initial], {
        result: { reference: true },
        filename: 'sandbox:bootstrap',
      }) as ivm.Reference<Record<string, unknown>>;
      this.initRef = api.getSync('init', { reference: true }) as never;
      this.runRef = api.getSync('run', { reference: true }) as never;
      this.deliverRef = api.getSync('deliver', { reference: true }) as never;
      api.release();
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  get disposed(): boolean {
    return this.isolate.isDisposed;
  }

  // isolated-vm's memoryLimit acts when V8 collects or nears its heap limit: one big allocation (a string of a few
  // hundred MB) can land and stay in a warm isolate past it. Read after each run: over the limit is a memory limit.
  overMemory(): boolean {
    try {
      if (this.isolate.isDisposed) return false;
      const h = this.isolate.getHeapStatisticsSync();
      return h.used_heap_size + (h.externally_allocated_size ?? 0) > this.memoryMb * 1024 * 1024;
    } catch {
      return false;
    }
  }

  // CPU time of the isolate so far; the last value read survives disposal.
  cpuNs(): bigint {
    try {
      if (!this.isolate.isDisposed) this.lastCpuNs = this.isolate.cpuTime;
    } catch {
      // disposed between the check and the read
    }
    return this.lastCpuNs;
  }

  // Compile, link (no imports) and evaluate the module, then hand its namespace to the bootstrap.
  // A syntax error or a refused module comes back as data; isolate faults are thrown.
  async load(source: string, timeoutMs: number): Promise<{ refused?: string; syntax?: string }> {
    let module: ivm.Module;
    try {
      module = await this.isolate.compileModule(source, { filename: SCRIPT_FILENAME });
    } catch (e) {
      if (this.isolate.isDisposed) throw e;
      return { syntax: errorMessage(e) };
    }
    this.module = module;
    if (module.dependencySpecifiers.length > 0) {
      return { refused: `imports are not supported (import of "${module.dependencySpecifiers[0]}")` };
    }
    module.instantiateSync(this.context, () => {
      throw new Error('imports are not supported');
    });
    await module.evaluate({ timeout: timeoutOption(timeoutMs) });
    const refused = await this.initRef.apply(undefined, [module.namespace.derefInto()], {
      timeout: timeoutOption(timeoutMs),
      result: { copy: true },
    });
    return typeof refused === 'string' && refused !== '' ? { refused } : {};
  }

  // Starts the handler for one event; its outcome arrives through hooks.done. The sync forms run
  // the script on the calling thread until it has nothing left to do (it waits on a host call or
  // has settled) or `timeoutMs` passes; the async forms run it on isolated-vm's thread pool.
  runSync(inv: number, handler: string, eventJson: string, pageId: string, l: SandboxLimits, timeoutMs: number): void {
    this.runRef.applySync(undefined, runArgs(inv, handler, eventJson, pageId, l), { timeout: timeoutOption(timeoutMs) });
  }

  run(inv: number, handler: string, eventJson: string, pageId: string, l: SandboxLimits, timeoutMs: number): Promise<void> {
    return this.runRef.apply(undefined, runArgs(inv, handler, eventJson, pageId, l), { timeout: timeoutOption(timeoutMs) });
  }

  deliverSync(req: number, ok: boolean, json: string, timeoutMs: number): void {
    this.deliverRef.applySync(undefined, [req, ok, json], { timeout: timeoutOption(timeoutMs) });
  }

  deliver(req: number, ok: boolean, json: string, timeoutMs: number): Promise<void> {
    return this.deliverRef.apply(undefined, [req, ok, json], { timeout: timeoutOption(timeoutMs) });
  }

  dispose(): void {
    this.cpuNs();
    try {
      if (!this.isolate.isDisposed) this.isolate.dispose();
    } catch {
      // already gone
    }
  }

  // Turns a rejection from isolated-vm into what happened.
  classify(e: unknown): IsolateFault {
    const message = errorMessage(e);
    if (/disposed/i.test(message) && (this.isolate.isDisposed || /during execution/.test(message))) {
      return { kind: 'disposed', memory: /memory limit/i.test(message) };
    }
    if (message === 'Script execution timed out.') return { kind: 'timeout' };
    const err = e as { name?: unknown; stack?: unknown } | null;
    return {
      kind: 'thrown',
      name: typeof err?.name === 'string' ? err.name : 'Error',
      message,
      stack: typeof err?.stack === 'string' ? err.stack : undefined,
    };
  }
}

// Primitives only: they cross as copies without any transfer option.
function runArgs(inv: number, handler: string, eventJson: string, pageId: string, l: SandboxLimits): Array<string | number> {
  return [inv, handler, eventJson, pageId, l.maxHostCalls, l.maxPayloadBytes, l.maxLogEntries, l.maxLogBytes];
}

const timeoutOption = (ms: number): number => Math.max(1, Math.ceil(ms));

export function errorMessage(e: unknown): string {
  if (e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  return String(e);
}

// Syntax checks use one scratch isolate per worker; nothing in it is ever run.
let scratch: ivm.Isolate | undefined;
let scratchUses = 0;

export async function checkModuleSyntax(
  source: string,
): Promise<{ ok: true } | { ok: false; message: string; line: number; column: number }> {
  if (!scratch || scratch.isDisposed || scratchUses++ > 200) {
    scratch?.dispose();
    scratch = new ivm.Isolate({ memoryLimit: 64 });
    scratchUses = 0;
  }
  try {
    const module = await scratch.compileModule(source, { filename: SCRIPT_FILENAME });
    const deps = module.dependencySpecifiers;
    module.release();
    if (deps.length > 0) {
      const at = locate(source, deps[0]);
      return { ok: false, message: `imports are not supported (import of "${deps[0]}")`, ...at };
    }
    return { ok: true };
  } catch (e) {
    return { ok: false, ...parseSyntaxError(errorMessage(e)) };
  }
}

// isolated-vm appends " [file:///bot.js:LINE:COLUMN]" to compile errors; columns are 1-based.
export function parseSyntaxError(message: string): { message: string; line: number; column: number } {
  const m = /^(.*) \[[^\]]*?:(\d+):(\d+)\]$/s.exec(message);
  if (!m) return { message, line: 1, column: 1 };
  return { message: m[1], line: Number(m[2]), column: Number(m[3]) };
}

function locate(source: string, specifier: string): { line: number; column: number } {
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const col = lines[i].search(/\b(import|export)\b/);
    if (col >= 0 && (lines[i].includes(`'${specifier}'`) || lines[i].includes(`"${specifier}"`))) {
      return { line: i + 1, column: col + 1 };
    }
  }
  return { line: 1, column: 1 };
}
