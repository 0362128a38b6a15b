// IPC messages between SandboxPool (parent) and a sandbox worker (child). Short keys: every
// invocation crosses this twice, so messages stay small; the event travels as a JSON string.
import type { InvocationResult, SandboxLimits, SyntaxCheckResult } from './types';

export const WORKER_CONFIG_ENV = 'SWITCHBOARD_SANDBOX_WORKER';

export interface WorkerConfig {
  maxWarmIsolates: number;
  idleIsolateTtlMs: number;
  maxSourceCacheBytes: number;
}

// Host-call operations a script can ask for.
export const HOST_OPS = ['send', 'store.get', 'store.set', 'store.delete', 'fetch', 'handover', 'account.unlink'] as const;
export type HostOp = (typeof HOST_OPS)[number];

export type ParentMessage =
  | {
      t: 'inv';
      id: number;
      p: string; // pageId
      v: string; // scriptVersionId
      h: string; // handler
      e: string; // event JSON
      s?: string; // source, when the worker may lack it
      l: SandboxLimits;
    }
  | { t: 'src'; v: string; s: string } // answer to 'need'
  | { t: 'hres'; id: number; r: number; ok: boolean; j: string }
  | { t: 'dispose'; v: string }
  | { t: 'syntax'; id: number; s: string }
  | { t: 'ping'; n: number }
  | { t: 'stop' };

export type ChildMessage =
  | { t: 'ready' }
  | { t: 'res'; id: number; r: InvocationResult }
  | { t: 'need'; id: number } // the worker has no source for this invocation's version
  | { t: 'host'; id: number; r: number; op: HostOp; j: string }
  | { t: 'syn'; id: number; r: SyntaxCheckResult }
  | { t: 'pong'; n: number }
  | { t: 'fatal'; message: string; v?: string; p?: string }; // v, p: the script version and Page of the isolate that reported it
