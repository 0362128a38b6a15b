import { Logger } from '@nestjs/common';
import { ConnectionOptions, Queue, Worker } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { JobName, JobPayloads } from './jobs';
import { EnqueueOptions, JobHandler, QueuePort } from './queue.port';

// BullMQ behind the port. Jobs are removed when done so a job id can be enqueued again (retries, reconciler).
export class RedisQueue implements QueuePort {
  readonly kind = 'redis' as const;
  private readonly logger = new Logger('RedisQueue');
  private readonly workers: Worker[] = [];

  constructor(
    private readonly queues: Map<JobName, Queue>,
    private readonly connection: RedisOptions,
    private readonly prefix: string,
  ) {}

  private queue(name: JobName): Queue {
    const q = this.queues.get(name);
    if (!q) throw new Error(`Queue ${name} is not registered`);
    return q;
  }

  async add<N extends JobName>(name: N, payload: JobPayloads[N], opts: EnqueueOptions = {}): Promise<void> {
    await this.queue(name).add(name, payload, {
      jobId: opts.jobId,
      delay: opts.delayMs,
      removeOnComplete: true,
      removeOnFail: true,
      attempts: 1,
    });
  }

  process<N extends JobName>(name: N, handler: JobHandler<N>, opts: { concurrency: number }): void {
    const worker = new Worker(name, async (job) => handler(job.data as JobPayloads[N]), {
      connection: this.connection as ConnectionOptions,
      prefix: this.prefix,
      concurrency: opts.concurrency,
      // Postgres has the truth; a stalled job is found again by the reconciler, so don't double-run it here.
      maxStalledCount: 1,
    });
    worker.on('failed', (job, err) => this.logger.error(`job ${name}/${job?.id} failed: ${err.message}`));
    worker.on('error', (err) => this.logger.error(`worker ${name}: ${err.message}`));
    this.workers.push(worker);
  }

  async pendingIds(name: JobName): Promise<Set<string>> {
    const jobs = await this.queue(name).getJobs(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);
    return new Set(jobs.filter(Boolean).map((j) => String(j.id)));
  }

  async depth(name: JobName): Promise<number> {
    const counts = await this.queue(name).getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
