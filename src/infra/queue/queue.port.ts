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
  // Worker role only; a job name has exactly one processor.
  process<N extends JobName>(name: N, handler: JobHandler<N>, opts: { concurrency: number }): void;
  // Ids of jobs waiting, delayed or active: lets a reconciler find what the queue lost.
  pendingIds(name: JobName): Promise<Set<string>>;
  depth(name: JobName): Promise<number>;
  // Stop taking jobs and wait for the ones in flight.
  close(): Promise<void>;
}
