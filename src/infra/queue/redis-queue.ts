import { Logger } from '@nestjs/common';
import { ConnectionOptions, Job, Queue, Worker } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { JobName, JobPayloads } from './jobs';
import { EnqueueOptions, JobHandler, QueuePort } from './queue.port';

// A trigger's mark outlives a crashed job only this long (the reconciler covers its deliveries meanwhile).
const WAKE_TTL_MS = 60_000;
// A killed worker's active jobs keep their ids until BullMQ finds them stalled, and until then an add under the
// same id (the reconciler's, a retry's) is ignored: with BullMQ's 30 s defaults a batch waited out its lease and
// then up to a minute more (seen in the SIGKILL fault test). Locks are renewed every half lockDuration while a job
// runs, so only a dead or frozen process loses them; a job re-run by mistake is a trigger, and the claim decides.
const LOCK_DURATION_MS = 10_000;
const STALLED_INTERVAL_MS = 5_000;
const WAKE = 'wake-';

// BullMQ behind the port. Jobs are removed when done so a job id can be enqueued again (retries, reconciler).
export class RedisQueue implements QueuePort {
  readonly kind = 'redis' as const;
  private readonly logger = new Logger('RedisQueue');
  private readonly workers: Worker[] = [];

  constructor(
    private readonly queues: Map<JobName, Queue>,
    private readonly connection: RedisOptions,
    private readonly prefix: string,
    private readonly redis: Redis,
  ) {}

  private wakeKey(name: JobName, jobId: string) {
    return `${this.prefix}:${name}:wake:${jobId}`;
  }

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

  // The mark is set before the add: a job that is running when the add is ignored reads the mark when it ends
  // (see process) and is enqueued again. A mark already set means someone is enqueuing, or a job will read it,
  // so the add is skipped: one Redis call per trigger of a busy key.
  async trigger<N extends JobName>(name: N, key: string, payload: JobPayloads[N]): Promise<void> {
    const id = `${WAKE}${key}`;
    const prev = await this.redis.set(this.wakeKey(name, id), '1', 'PX', WAKE_TTL_MS, 'GET');
    if (prev === null) await this.add(name, payload, { jobId: id });
  }

  process<N extends JobName>(name: N, handler: JobHandler<N>, opts: { concurrency: number }): void {
    const worker = new Worker(
      name,
      async (job) => {
        // Whatever marked the key before this point is covered by the run starting now.
        if (String(job.id).startsWith(WAKE)) await this.redis.del(this.wakeKey(name, String(job.id)));
        return handler(job.data as JobPayloads[N]);
      },
      {
        connection: this.connection as ConnectionOptions,
        prefix: this.prefix,
        concurrency: opts.concurrency,
        // Postgres has the truth; a stalled job is found again by the reconciler, so don't double-run it here.
        maxStalledCount: 1,
        lockDuration: LOCK_DURATION_MS,
        stalledInterval: STALLED_INTERVAL_MS,
      },
    );
    // After the job is removed, so an add now is not ignored: a trigger that came while it ran runs it again.
    const rerun = (job: Job | undefined) => {
      const id = String(job?.id ?? '');
      if (!job || !id.startsWith(WAKE)) return;
      this.redis
        .getdel(this.wakeKey(name, id))
        .then((mark) => (mark === null ? undefined : this.add(name, job.data as JobPayloads[N], { jobId: id })))
        .catch((err: Error) => this.logger.error(`re-trigger ${name}/${id} failed: ${err.message}`));
    };
    worker.on('completed', rerun);
    worker.on('failed', rerun);
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
