import { Logger } from '@nestjs/common';
import { JobName, JobPayloads } from './jobs';
import { EnqueueOptions, JobHandler, QueuePort } from './queue.port';

interface PendingJob {
  id: string;
  payload: unknown;
  dueAt: number;
}

interface Lane {
  pending: PendingJob[];
  ids: Set<string>;
  running: Set<string>;
  // Triggered while running: enqueued again when it ends.
  rerun: Map<string, unknown>;
  active: number;
  handler?: (payload: unknown) => Promise<void>;
  concurrency: number;
  timer?: NodeJS.Timeout;
}

// The embedded default's stand-in for BullMQ: same contract, one process, nothing survives a restart
// (Postgres does, and the reconciler re-enqueues from it).
export class MemoryQueue implements QueuePort {
  readonly kind = 'memory' as const;
  private readonly logger = new Logger('MemoryQueue');
  private readonly lanes = new Map<JobName, Lane>();
  private closed = false;
  private seq = 0;
  private readonly idle = new Set<() => void>();

  private lane(name: JobName): Lane {
    let lane = this.lanes.get(name);
    if (!lane) {
      lane = { pending: [], ids: new Set(), running: new Set(), rerun: new Map(), active: 0, concurrency: 1 };
      this.lanes.set(name, lane);
    }
    return lane;
  }

  async add<N extends JobName>(name: N, payload: JobPayloads[N], opts: EnqueueOptions = {}): Promise<void> {
    if (this.closed) return;
    const lane = this.lane(name);
    const id = opts.jobId ?? `mem-${++this.seq}`;
    if (lane.ids.has(id)) return;
    lane.ids.add(id);
    lane.pending.push({ id, payload: structuredClone(payload), dueAt: Date.now() + (opts.delayMs ?? 0) });
    lane.pending.sort((a, b) => a.dueAt - b.dueAt);
    this.pump(name);
  }

  async trigger<N extends JobName>(name: N, key: string, payload: JobPayloads[N]): Promise<void> {
    const lane = this.lane(name);
    const id = `wake-${key}`;
    if (lane.running.has(id)) lane.rerun.set(id, payload);
    else await this.add(name, payload, { jobId: id });
  }

  process<N extends JobName>(name: N, handler: JobHandler<N>, opts: { concurrency: number }): void {
    const lane = this.lane(name);
    if (lane.handler) throw new Error(`Job ${name} already has a processor`);
    lane.handler = handler as (payload: unknown) => Promise<void>;
    lane.concurrency = opts.concurrency;
    this.pump(name);
  }

  async pendingIds(name: JobName): Promise<Set<string>> {
    return new Set(this.lane(name).ids);
  }

  async depth(name: JobName): Promise<number> {
    return this.lane(name).ids.size;
  }

  private pump(name: JobName): void {
    const lane = this.lane(name);
    if (!lane.handler || this.closed) return;
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = undefined;
    const now = Date.now();
    while (lane.active < lane.concurrency && lane.pending.length && lane.pending[0].dueAt <= now) {
      const job = lane.pending.shift()!;
      lane.active++;
      lane.running.add(job.id);
      lane
        .handler(job.payload)
        .catch((err) => this.logger.error(`job ${name}/${job.id} failed: ${(err as Error).message}`))
        .finally(() => {
          lane.active--;
          lane.ids.delete(job.id);
          lane.running.delete(job.id);
          const again = lane.rerun.get(job.id);
          if (lane.rerun.delete(job.id)) void this.add(name, again as JobPayloads[JobName], { jobId: job.id });
          this.pump(name);
          this.notifyIdle();
        });
    }
    if (lane.pending.length && lane.active < lane.concurrency) {
      lane.timer = setTimeout(() => this.pump(name), Math.max(0, lane.pending[0].dueAt - Date.now()));
      lane.timer.unref();
    }
  }

  private notifyIdle() {
    if ([...this.lanes.values()].every((l) => l.active === 0)) for (const fn of this.idle) fn();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const lane of this.lanes.values()) if (lane.timer) clearTimeout(lane.timer);
    if ([...this.lanes.values()].every((l) => l.active === 0)) return;
    await new Promise<void>((resolve) => this.idle.add(resolve));
  }
}
