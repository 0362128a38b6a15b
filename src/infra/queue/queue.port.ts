import { JobName, JobPayloads } from './jobs';

export const QUEUE = Symbol('QUEUE');

export interface EnqueueOptions {
  // Same id twice while the first is pending enqueues once (BullMQ's jobId semantics).
  jobId?: string;
  delayMs?: number;
}

export type JobHandler<N extends JobName> = (payload: JobPayloads[N]) => Promise<void>;

export interface QueuePort {
  readonly kind: 'redis' | 'memory';
  add<N extends JobName>(name: N, payload: JobPayloads[N], opts?: EnqueueOptions): Promise<void>;
  // A coalescing wake-up: after this call a job for `key` starts at least once. Calls while one waits merge into
  // it; a call while one runs makes it run once more after it ends (a plain add with a fixed id would be dropped
  // then, BullMQ ignoring an id still present, and the wake-up lost).
  trigger<N extends JobName>(name: N, key: string, payload: JobPayloads[N]): Promise<void>;
  // Worker role only; a job name has exactly one processor.
  process<N extends JobName>(name: N, handler: JobHandler<N>, opts: { concurrency: number }): void;
  // Ids of jobs waiting, delayed or active: lets a reconciler find what the queue lost.
  pendingIds(name: JobName): Promise<Set<string>>;
  depth(name: JobName): Promise<number>;
  // Stop taking jobs and wait for the ones in flight.
  close(): Promise<void>;
}
