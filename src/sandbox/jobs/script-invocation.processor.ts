import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { toStorableText } from '../../../libs/templates';
import { MediaService } from '../../media/media.service';
import { AppConfig } from '../../config/app-config';
import { openSealedItem } from '../../webhooks/sealed-items';
import { QUEUE, QueuePort } from '../../infra/queue/queue.port';
import { retryWhileDatabaseAway } from '../../database/pg-retry';
import { parseSchedule, retryDelayMs } from '../../webhooks/retry-policy';
import { DeliveryReceipts } from '../../webhooks/delivery-receipts';
import { APP_LIVE_SQL } from '../../webhooks/webhooks.service';
import { handlerFor } from '../event-handler';
import type { InvocationResult, SandboxLimits } from '../runtime';
import { SandboxPools } from '../sandbox-pools';
import { ScriptLogs } from '../script-logs';

export const SCRIPT_JOB = 'script-invocation' as const;
const jobId = (deliveryId: string, attempt = 0) => (attempt ? `${deliveryId}_${attempt}` : deliveryId);

interface ClaimedInvocation {
  id: string;
  app_id: string;
  page_id: string;
  thread_key: string;
  attempts: number;
  created_at: Date;
  messaging: Record<string, unknown>;
  field: string;
  version_id: string;
  version: number;
  source: string;
  allowed_hosts: string[];
  limits: Partial<SandboxLimits>;
}

// Failures that say nothing about the script: retried, but they do not count towards its breaker. A worker crash
// with several versions in flight fails every run it held, most of them bystanders queued behind the one that
// crashed it (counting it paused innocent scripts); only a crash with one version in flight, or one the version's
// own isolate reported (worker_crashed), is that script's. The pool's quarantine also stops a version in flight at
// crash after crash.
const PLATFORM_FAULTS = new Set(['pool_stopped', 'overloaded', 'internal', 'invalid_request', 'worker_crashed_shared']);

// A worker runs one Page's invocations one after another, so a Page's claims beyond this only wait there, each
// holding one of this process's SCRIPT_CONCURRENCY slots: one busy or hostile Page could hold them all and stall
// every other Page's script. Over it a delivery stays pending; the poller enqueues it once the Page is under it.
const MAX_IN_FLIGHT_PER_PAGE = 2;

// How long the bookkeeping after a run is tried again while Postgres is away: a run that is never settled is run
// again when its lease (60 s) lapses, and a script's replies would go out twice.
const SETTLE_RETRY_MS = 30_000;

// The outbox's second delivery target: deliveries with target 'script' are claimed here (the HTTP worker skips
// them) and run in the sandbox with the Page's active version, under the webhooks' retry schedule.
@Injectable()
export class ScriptInvocationProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ScriptInvocation');
  private readonly schedule: number[];
  private pollTimer?: NodeJS.Timeout;
  private polling = false;
  private stopping = false;
  // Jobs being handled now, awaited at shutdown.
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(QUEUE) private readonly queue: QueuePort,
    private readonly pools: SandboxPools,
    private readonly logs: ScriptLogs,
    private readonly media: MediaService,
    private readonly receipts: DeliveryReceipts,
  ) {
    this.schedule = parseSchedule(config.env.WEBHOOK_RETRY_SCHEDULE);
  }

  onApplicationBootstrap(): void {
    if (!this.config.runsWorkers) return;
    this.queue.process(SCRIPT_JOB, ({ deliveryId }) => this.track(this.invoke(deliveryId)), {
      concurrency: this.config.env.SCRIPT_CONCURRENCY,
    });
    this.pollTimer = setInterval(() => void this.poll(), this.config.env.SCRIPT_POLL_INTERVAL_MS);
    this.pollTimer.unref();
  }

  // SIGTERM: runs in flight finish and settle before the sandbox pool stops (SandboxPools, which this depends on, is
  // destroyed after this); stopped at once, a run was retried by the next process and its sends so far went out
  // twice. Jobs that arrive meanwhile claim nothing: their deliveries stay pending for the next process's poller.
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    await Promise.allSettled([...this.running]);
  }

  private track(run: Promise<void>): Promise<void> {
    this.running.add(run);
    const done = () => void this.running.delete(run);
    run.then(done, done);
    return run;
  }

  async invoke(deliveryId: string): Promise<void> {
    if (this.stopping) return;
    const leaseMs = 60_000;
    // Same fence as the HTTP worker (a suspended app's included), plus: the Page's script is active and not paused by
    // its breaker.
    const [c]: ClaimedInvocation[] = await this.db.query(
      `WITH c AS (
         UPDATE webhook_deliveries d
            SET status = 'in_flight', attempts = d.attempts + 1, lease_until = now() + ($2::int * interval '1 millisecond')
          WHERE d.id = $1 AND d.status = 'pending' AND d.next_attempt_at <= now() AND d.target = 'script' AND ${APP_LIVE_SQL}
            AND EXISTS (SELECT 1 FROM page_scripts ps
                         WHERE ps.app_id = d.app_id AND ps.page_id = d.page_id
                           AND ps.active_version_id IS NOT NULL AND ps.paused_at IS NULL)
            AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries o
               WHERE o.app_id = d.app_id AND o.thread_key = d.thread_key AND o.seq < d.seq
                 AND o.status IN ('pending', 'in_flight'))
            -- A soft cap (two claims at once may both pass it): enough to keep a Page from holding every slot.
            AND (SELECT count(*) FROM webhook_deliveries f
                  WHERE f.app_id = d.app_id AND f.status = 'in_flight' AND f.target = 'script') < $3
        RETURNING d.id, d.app_id, d.page_id, d.thread_key, d.attempts, d.created_at, d.event_id)
       SELECT c.*, e.field, e.messaging, v.id AS version_id, v.version, v.source, v.allowed_hosts, v.limits
         FROM c JOIN webhook_events e ON e.id = c.event_id
         JOIN page_scripts ps ON ps.app_id = c.app_id
         JOIN script_versions v ON v.id = ps.active_version_id`,
      [deliveryId, leaseMs, MAX_IN_FLIGHT_PER_PAGE],
    );
    if (!c) return;
    const handler = handlerFor(c.messaging, c.field);
    if (!handler) {
      await this.settleSuccess(c);
      return;
    }
    const started = new Date();
    const result: InvocationResult = await this.pools.livePool().invoke({
      pageId: c.page_id,
      scriptVersionId: c.version_id,
      source: c.source,
      handler,
      // Media URLs signed now, not when the event was recorded: a retried run gets live ones.
      event: openSealedItem(this.media.resignUrls(c.messaging), this.config.secretBox),
      allowedHosts: c.allowed_hosts,
      limits: c.limits ?? {},
    });
    // A script's own error message may hold a NUL or an unpaired surrogate: stored, so made storable.
    const error = result.outcome === 'ok' ? null : toStorableText(describeFailure(result));
    const attemptId = randomUUID();
    await this.settling(c.id, () =>
      this.db.query(
        `INSERT INTO webhook_attempts (id, delivery_id, attempt, started_at, status_code, latency_ms, error, response_body)
         VALUES ($1, $2, $3, $4, NULL, $5, $6, NULL) ON CONFLICT (delivery_id, attempt) DO NOTHING`,
        [attemptId, c.id, c.attempts, started, Math.round(result.wallMs), error],
      ),
    );
    await this.settling(c.id, () => this.logs.append(c.page_id, c.version_id, c.id, result, error));
    if (!error) {
      await this.settling(c.id, () => this.settleSuccess(c));
      return;
    }
    const counts = !PLATFORM_FAULTS.has(result.error?.code ?? '');
    await this.settleFailure(c, error, counts);
  }

  // The run's bookkeeping, run again while Postgres is away; each step is safe to run twice (the attempt row is
  // unique per attempt, a delivery moves only from the attempt it names), except the breaker's count and the
  // log lines, which a blip may count or write twice.
  private settling<T>(deliveryId: string, step: () => Promise<T>): Promise<T> {
    return retryWhileDatabaseAway(step, {
      forMs: SETTLE_RETRY_MS,
      stop: () => this.stopping,
      onFirstRetry: (err) => this.logger.warn(`script delivery ${deliveryId}: settle failed (${err.message}); trying again while Postgres is away`),
    });
  }

  private async settleSuccess(c: ClaimedInvocation): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), lease_until = NULL, last_error = NULL
        WHERE id = $1 AND status = 'in_flight' AND attempts = $2`,
      [c.id, c.attempts],
    );
    await this.db.query(`UPDATE page_scripts SET consecutive_failures = 0 WHERE app_id = $1 AND consecutive_failures <> 0`, [c.app_id]);
    await this.releaseNextInThread(c.app_id, c.thread_key);
    await this.receipts.received([{ pageId: c.page_id, field: c.field, messaging: c.messaging }]);
  }

  private async settleFailure(c: ClaimedInvocation, error: string, countsForBreaker: boolean): Promise<void> {
    let paused = false;
    if (countsForBreaker) {
      const threshold = this.config.env.SCRIPT_BREAKER_THRESHOLD;
      // The breaker: the increment and the trip are one statement, so one invocation trips it once.
      const [row]: { consecutive_failures: number; tripped: boolean }[] = await this.settling(c.id, () => this.db.query(
        `WITH u AS (
         UPDATE page_scripts
            SET consecutive_failures = consecutive_failures + 1,
                paused_at = CASE WHEN paused_at IS NULL AND consecutive_failures + 1 >= $2::int THEN now() ELSE paused_at END,
                paused_reason = CASE WHEN paused_at IS NULL AND consecutive_failures + 1 >= $2::int THEN $3::text ELSE paused_reason END
          WHERE app_id = $1
        RETURNING consecutive_failures, (paused_at IS NOT NULL AND paused_reason = $3::text AND consecutive_failures = $2::int) AS tripped)
         SELECT * FROM u`,
        [c.app_id, threshold, `${threshold} consecutive failed invocations; last: ${error}`.slice(0, 1000)],
      ));
      paused = Boolean(row && row.consecutive_failures >= threshold);
      if (row?.tripped) {
        const message = `[sandbox] script paused after ${threshold} consecutive failed invocations; events are kept and run again when the script is resumed or a version is activated`;
        this.logger.warn(`page ${c.page_id}: ${message}`);
        await this.logs.line(c.page_id, c.version_id, c.id, 'error', message);
      }
    }
    const ageMs = Date.now() - new Date(c.created_at).getTime();
    const giveUp = ageMs > this.config.env.WEBHOOK_MAX_AGE_SECONDS * 1000;
    const delay = retryDelayMs(this.schedule, c.attempts);
    await this.settling(c.id, () => this.db.query(
      `UPDATE webhook_deliveries
          SET status = $3, lease_until = NULL, last_error = $4, next_attempt_at = now() + ($5::int * interval '1 millisecond')
        WHERE id = $1 AND status = 'in_flight' AND attempts = $2`,
      [c.id, c.attempts, giveUp ? 'failed' : 'pending', error.slice(0, 1000), giveUp ? 0 : delay],
    ));
    if (giveUp) {
      this.logger.warn(`script delivery ${c.id} of page ${c.page_id} failed for good: ${error}`);
      await this.releaseNextInThread(c.app_id, c.thread_key);
      return;
    }
    // While paused nothing is enqueued; the poller picks the deliveries up once the script runs again.
    if (!paused) await this.queue.add(SCRIPT_JOB, { deliveryId: c.id }, { jobId: jobId(c.id, c.attempts), delayMs: delay });
  }

  // The thread's next due event (one index probe). Other threads of the Page, held back by the per-Page cap, are
  // the poller's: it enqueues the heads of Pages under the cap, so a busy Page is not re-claimed in vain.
  private async releaseNextInThread(appId: string, threadKey: string): Promise<void> {
    const [next]: { id: string }[] = await this.db.query(
      `SELECT id FROM webhook_deliveries
        WHERE app_id = $1 AND thread_key = $2 AND status = 'pending' AND next_attempt_at <= now() AND target = 'script'
        ORDER BY seq LIMIT 1`,
      [appId, threadKey],
    );
    if (next) await this.queue.add(SCRIPT_JOB, { deliveryId: next.id }, { jobId: jobId(next.id) });
  }

  // New events (messaging enqueues only the HTTP job), retries lost by the queue, resumed scripts, lapsed claims.
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      await this.db.query(
        `UPDATE webhook_deliveries SET status = 'pending', lease_until = NULL
          WHERE status = 'in_flight' AND lease_until < now() AND target = 'script'`,
      );
      // Each Page's oldest thread heads, as many as its cap leaves room for: a busy Page's other heads are not
      // enqueued only to be refused by the claim, and wait for the poll after one of its runs ends. The runs in
      // flight are counted once per Page (busy), not once per candidate row.
      const due: { id: string }[] = await this.db.query(
        `WITH busy AS MATERIALIZED (
           SELECT app_id, count(*) AS n FROM webhook_deliveries WHERE status = 'in_flight' AND target = 'script' GROUP BY app_id)
         SELECT h.id FROM (
           SELECT d.id, d.seq, row_number() OVER (PARTITION BY d.app_id ORDER BY d.seq) AS k, coalesce(b.n, 0) AS busy
             FROM webhook_deliveries d
             LEFT JOIN busy b ON b.app_id = d.app_id
             JOIN page_scripts ps ON ps.app_id = d.app_id AND ps.page_id = d.page_id
                                  AND ps.active_version_id IS NOT NULL AND ps.paused_at IS NULL
            WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND d.target = 'script' AND ${APP_LIVE_SQL}
              AND NOT EXISTS (
                SELECT 1 FROM webhook_deliveries o
                 WHERE o.app_id = d.app_id AND o.thread_key = d.thread_key AND o.seq < d.seq
                   AND o.status IN ('pending', 'in_flight'))) h
          WHERE h.k + h.busy <= $1
          ORDER BY h.seq LIMIT 500`,
        [MAX_IN_FLIGHT_PER_PAGE],
      );
      if (!due.length) return;
      const queued = new Set([...(await this.queue.pendingIds(SCRIPT_JOB))].map((id) => id.split('_')[0]));
      for (const { id } of due) if (!queued.has(id)) await this.queue.add(SCRIPT_JOB, { deliveryId: id }, { jobId: jobId(id) });
    } catch (err) {
      this.logger.error(`script poll failed: ${(err as Error).message}`);
    } finally {
      this.polling = false;
    }
  }
}

export function describeFailure(r: InvocationResult): string {
  if (r.outcome === 'limit') return `limit exceeded: ${r.limit}${r.error?.message ? ` (${r.error.message})` : ''}`;
  return `${r.error?.code ?? 'error'}: ${r.error?.message ?? 'unknown error'}`;
}
