import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Counter, Gauge, Histogram } from 'prom-client';
import { DataSource } from 'typeorm';
import { SafeHttpClient, SafeHttpError } from '../../../libs/safe-http';
import { toStorableText } from '../../../libs/templates';
import { signMessenger, signStandard, toMessengerJson } from '../../../libs/webhook-signature';
import { AppsService } from '../../apps/apps.service';
import { AuthService } from '../../auth/auth.service';
import { AppConfig } from '../../config/app-config';
import { openSealedItem } from '../sealed-items';
import { SqlService } from '../../database/sql.service';
import { isDatabaseUnavailable } from '../../database/pg-errors';
import { retryWhileDatabaseAway } from '../../database/pg-retry';
import { MetricsService } from '../../health/metrics.service';
import { MediaService } from '../../media/media.service';
import { WEBHOOK_HTTP } from '../../infra/http/outbound-http';
import { QUEUE, QueuePort } from '../../infra/queue/queue.port';
import { RATE_LIMITER, RateLimiterPort } from '../../infra/rate-limit/rate-limiter.port';
import { failureStage, isSuccess, nextRamp, parseSchedule, retryAfterMs, retryDelayMs, splitBatch } from '../retry-policy';
import { DeliveryReceipts } from '../delivery-receipts';
import {
  DELIVERY_JOB,
  deliveryIdOfJob,
  deliveryJobId,
  APP_LIVE_SQL,
  ENDPOINT_OPEN_SQL,
  endpointOpenSql,
  THREAD_HEAD_SQL,
  WebhooksService,
  webhookEntry,
} from '../webhooks.service';

interface Member {
  id: string;
  app_id: string;
  page_id: string;
  thread_key: string;
  attempts: number;
  created_at: Date;
  last_error: string | null;
  messaging: Record<string, unknown>;
  // `standby` for an app that doesn't control the thread (handover protocol).
  field: string;
}

interface Target {
  appId: string;
  callbackUrl: string;
  rampLimit: number | null;
  paused: boolean;
}

interface BacklogRow {
  app_id: string;
  n: number;
  age: number;
}

interface StageRow {
  app_id: string;
  warned: boolean;
  paused: boolean;
}

// 'more': a fresh batch claimed by a sender that just succeeded, so it re-checks the endpoint is still open.
type ClaimMode = { kind: 'batch'; batchId: string } | { kind: 'fresh' } | { kind: 'more' } | { kind: 'probe' };

const SEND_ROUNDS = 50;

// Time kept, besides a POST's timeout, for a round's claim and settle before the sender's slot lapses.
const ROUND_MARGIN_MS = 5_000;

const CLAIM_MEMO_MS = 2000;

const LEARNED_BATCH_MS = 10 * 60_000;

// How long a settle that Postgres cut short is tried again. The bot has the batch: until it is settled it holds
// its threads, and once its lease (WEBHOOK_TIMEOUT_MS + 30 s from the claim) lapses it is sent again. A settle
// that lands after that matches nothing (it names the attempt it settles), so the bound only stops the work.
const SETTLE_RETRY_MS = 30_000;

// A POST open this long counts as a slow bot's (see send): a local bot answers in 1-3 ms.
const SLOW_POST_MS = 10;

// For the worker's own bookkeeping (claims, attempts, settles): a commit lost to a Postgres crash only means a
// delivery is sent again, which at-least-once allows, so those commits don't wait for the WAL flush. What causes
// an event (and the event itself) is always committed synchronously.
const ASYNC_COMMIT = `set_config('synchronous_commit', 'off', true)`;

interface AttemptRecord {
  members: Member[];
  batchId: string;
  started: Date;
  status: number | null;
  latencyMs: number;
  error: string | null;
  responseBody: string | null;
}

// One row per member: $1 ids, $2 attempt numbers, $3..$8 the POST's outcome.
// Only for deliveries that still exist: one forgotten meanwhile (its page disconnected the app) keeps no attempt.
// Where the same statement also updates the deliveries (a success), that update waits for a forgetting delete; alone
// (a failure), the check locks the row (KEY SHARE), so it waits for the delete and then finds nothing.
const attemptsInsert = (lock: boolean) => `INSERT INTO webhook_attempts (id, delivery_id, attempt, batch_id, started_at, status_code, latency_ms, error, response_body)
  SELECT gen_random_uuid(), x.id, x.attempt, $3, $4, $5, $6, $7, $8
    FROM unnest($1::uuid[], $2::int[]) AS x(id, attempt)
   WHERE EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = x.id${lock ? ' FOR KEY SHARE' : ''})
  ON CONFLICT (delivery_id, attempt) DO NOTHING`;
const ATTEMPTS_INSERT = attemptsInsert(false);
const ATTEMPTS_INSERT_ALONE = attemptsInsert(true);

const attemptParams = (a: AttemptRecord): unknown[] => [
  a.members.map((mb) => mb.id),
  a.members.map((mb) => mb.attempts),
  a.batchId,
  a.started,
  a.status,
  a.latencyMs,
  a.error,
  a.responseBody,
];

const RETURNING = `RETURNING d.id, d.app_id, d.page_id, d.thread_key, d.attempts, d.created_at, d.last_error, d.event_id, d.seq, d.batch_id`;

// Claims a batch (one worker wins), POSTs it signed, records an attempt per delivery, then settles or schedules a retry.
@Injectable()
export class WebhookDeliveryProcessor implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookDelivery');
  private readonly schedule: number[];
  private reconcileTimer?: NodeJS.Timeout;
  private reconciling = false;
  private closing = false;
  private readonly attemptsTotal: Counter<'outcome'>;
  private readonly latency: Histogram;
  private readonly deliveryLatency: Histogram;
  private readonly warnings: Counter<'stage'>;
  private readonly batchSize: Histogram;
  // Delivery ids this process claimed in the last seconds: their per-event jobs are skipped without a query.
  // Only an optimisation: an entry lapses after CLAIM_MEMO_MS, and a failure clears it, so a retry, replay or
  // reconciler job for the same id is at most delayed until then, never lost.
  private readonly recentlyClaimed = new Map<string, number>();
  // Per app, the size of the halves its bot's last 413 ("too large") was split into: fresh batches are formed no
  // larger for LEARNED_BATCH_MS, rather than each meeting the 413 again. Per process, and it lapses, so a bot that
  // raised its limit gets full batches back.
  private readonly learnedBatch = new Map<string, { size: number; until: number }>();
  // Senders started by wake-up jobs (wakeApp) and probes, still sending.
  private readonly senders = new Set<Promise<void>>();

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly sql: SqlService,
    @Inject(QUEUE) private readonly queue: QueuePort,
    @Inject(WEBHOOK_HTTP) private readonly http: SafeHttpClient,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiterPort,
    private readonly auth: AuthService,
    private readonly apps: AppsService,
    private readonly webhooks: WebhooksService,
    private readonly media: MediaService,
    private readonly receipts: DeliveryReceipts,
    metrics: MetricsService,
  ) {
    this.schedule = parseSchedule(config.env.WEBHOOK_RETRY_SCHEDULE);
    const registers = [metrics.registry];
    this.attemptsTotal = new Counter({
      name: 'switchboard_webhook_attempts_total',
      help: 'Webhook POSTs by outcome (success, http_error, or the network error code)',
      labelNames: ['outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'switchboard_webhook_attempt_duration_seconds',
      help: 'Time from POST to the bot answering',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.deliveryLatency = new Histogram({
      name: 'switchboard_webhook_delivery_latency_seconds',
      help: 'Time from the event being written to the bot acknowledging it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'switchboard_webhook_batch_entries',
      help: 'Entries per webhook POST',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 1000],
      registers,
    });
    this.warnings = new Counter({
      name: 'switchboard_webhook_endpoint_transitions_total',
      help: 'Endpoints entering the warning or paused stage after sustained failure (or 410 Gone)',
      labelNames: ['stage'],
      registers,
    });
    new Gauge({
      name: 'switchboard_webhook_queue_depth',
      help: 'Delivery jobs waiting, delayed or active in the queue',
      registers,
      collect: async function (this: Gauge) {
        this.set(await queue.depth(DELIVERY_JOB).catch(() => -1));
      },
    });
    // prom-client collects every metric at once: the per-app gauges share one snapshot per scrape.
    let snapshot: Promise<{ backlog: BacklogRow[]; stages: StageRow[] }> | null = null;
    const take = () => {
      snapshot ??= (async () => {
        try {
          const backlog: BacklogRow[] = await db.query(
            `SELECT app_id, count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float AS age
               FROM webhook_deliveries WHERE status IN ('pending', 'in_flight') GROUP BY app_id`,
          );
          const stages: StageRow[] = await db.query(
            `SELECT app_id, warned_at IS NOT NULL AS warned, paused_at IS NOT NULL AS paused
               FROM webhook_endpoints WHERE warned_at IS NOT NULL OR paused_at IS NOT NULL`,
          );
          return { backlog, stages };
        } catch {
          return { backlog: [], stages: [] };
        } finally {
          setTimeout(() => (snapshot = null), 250).unref();
        }
      })();
      return snapshot;
    };
    new Gauge({
      name: 'switchboard_webhook_pending_deliveries',
      help: 'Undelivered (pending or in flight) deliveries per app',
      labelNames: ['app_id'],
      registers,
      collect: async function (this: Gauge<'app_id'>) {
        this.reset();
        for (const r of (await take()).backlog) this.set({ app_id: r.app_id }, r.n);
      },
    });
    new Gauge({
      name: 'switchboard_webhook_oldest_pending_age_seconds',
      help: 'Age of the oldest undelivered delivery per app',
      labelNames: ['app_id'],
      registers,
      collect: async function (this: Gauge<'app_id'>) {
        this.reset();
        for (const r of (await take()).backlog) this.set({ app_id: r.app_id }, r.age);
      },
    });
    new Gauge({
      name: 'switchboard_webhook_endpoint_stage',
      help: '1 when an app endpoint is in that stage (warning, paused)',
      labelNames: ['app_id', 'stage'],
      registers,
      collect: async function (this: Gauge<'app_id' | 'stage'>) {
        this.reset();
        for (const e of (await take()).stages) {
          if (e.warned) this.set({ app_id: e.app_id, stage: 'warning' }, 1);
          if (e.paused) this.set({ app_id: e.app_id, stage: 'paused' }, 1);
        }
      },
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.runsWorkers) return;
    this.queue.process(DELIVERY_JOB, (job) => ('appId' in job ? this.wakeApp(job.appId) : this.deliver(job.deliveryId)), {
      concurrency: this.config.env.WEBHOOK_CONCURRENCY,
    });
    this.reconcileTimer = setInterval(() => void this.reconcile(), this.config.env.WEBHOOK_RECONCILE_INTERVAL_MS);
    this.reconcileTimer.unref();
    void this.reconcile();
  }

  onModuleDestroy(): void {
    this.stopTakingBatches();
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
  }

  // A sender working through a backlog finishes its POST in flight and takes no next batch. Called as shutdown
  // begins (src/bootstrap/start.ts), before other modules' destroy hooks (the sandbox pool's take a while).
  stopTakingBatches(): void {
    this.closing = true;
  }

  // SIGTERM: stop taking jobs and let attempts in flight finish and settle while Postgres is still open
  // (TypeORM closes in onApplicationShutdown). main.ts bounds the whole shutdown.
  async beforeApplicationShutdown(): Promise<void> {
    if (this.config.runsWorkers) await this.queue.close();
    // Senders started by wake-up jobs outlive their job, and probes have none: their POST in flight settles
    // before Postgres closes.
    await Promise.allSettled([...this.senders]);
    // Their settles handed receipts over without waiting (off the sender's path): written before Postgres closes.
    await this.receipts.idle();
  }

  private get leaseMs() {
    return this.config.env.WEBHOOK_TIMEOUT_MS + 30_000;
  }

  // A job names one delivery; it is a trigger for that delivery's app: its retry batch, or a fresh batch of
  // the app's oldest deliveries that may go now.
  async deliver(deliveryId: string): Promise<void> {
    // Most per-event jobs name a delivery a batch of this process already took: skip them without a query.
    const memo = this.recentlyClaimed.get(deliveryId);
    if (memo !== undefined) {
      if (memo > Date.now()) return;
      this.recentlyClaimed.delete(deliveryId);
    }
    const [d]: {
      app_id: string;
      status: string;
      target: string;
      batch_id: string | null;
      callback_url: string | null;
      active: boolean | null;
      paused: boolean | null;
      ramp_limit: number | null;
      blocked: boolean;
    }[] = await this.sql.query(
      `SELECT d.app_id, d.status, d.target, d.batch_id, s.callback_url, s.active, ep.paused_at IS NOT NULL AS paused, ep.ramp_limit,
              EXISTS (SELECT 1 FROM webhook_deliveries o
                       WHERE o.app_id = d.app_id AND o.thread_key = d.thread_key AND o.seq < d.seq
                         AND o.status = 'in_flight') AS blocked
         FROM webhook_deliveries d
         LEFT JOIN app_subscriptions s ON s.app_id = d.app_id AND s.object = 'page'
         LEFT JOIN webhook_endpoints ep ON ep.app_id = d.app_id
        WHERE d.id = $1`,
      [deliveryId],
    );
    // Not pending, or its endpoint is off or paused: it stays in Postgres until a resume or probe.
    if (!d || d.status !== 'pending' || !d.callback_url || !d.active || d.paused) return;
    // Hosted scripts' deliveries are the sandbox's (script-invocation job), never POSTed.
    if (d.target !== 'webhook') return;
    // Behind an event in flight on its thread: that POST's end kicks the backlog, which covers this one. A fresh
    // one still stands for its app's other threads (the reconciler and kicks name only the oldest deliveries), so
    // those are claimed now rather than after that POST (up to WEBHOOK_TIMEOUT_MS; a dead worker's, its lease).
    if (d.blocked && d.batch_id) return;
    const target = { appId: d.app_id, callbackUrl: d.callback_url, rampLimit: d.ramp_limit, paused: false };
    await this.send(target, d.batch_id ? { kind: 'batch', batchId: d.batch_id } : { kind: 'fresh' });
  }

  // An app's wake-up after new events: a sender for a fresh batch of its oldest deliveries that may go now, and
  // the rounds after. The job ends once that batch is claimed, not when it is acknowledged: a wake-up that came
  // meanwhile then runs at once and its sender claims the threads this one doesn't hold, in parallel, up to the
  // endpoint's in-flight cap (a slow bot gets several batches in flight, not one per round trip).
  async wakeApp(appId: string): Promise<void> {
    const [s]: { callback_url: string; ramp_limit: number | null }[] = await this.sql.query(
      `SELECT s.callback_url, ep.ramp_limit
         FROM app_subscriptions s LEFT JOIN webhook_endpoints ep ON ep.app_id = s.app_id
        WHERE s.app_id = $1 AND s.object = 'page' AND s.active AND ep.paused_at IS NULL`,
      [appId],
    );
    // Off or paused: the events stay in Postgres until a resume or probe.
    if (!s) return;
    let claimed!: () => void;
    const firstClaim = new Promise<void>((resolve) => (claimed = resolve));
    const target = { appId, callbackUrl: s.callback_url, rampLimit: s.ramp_limit, paused: false };
    // A crash mid-send leaves leased rows that the reconciler returns to pending, as for any sender.
    const sender: Promise<void> = this.send(target, { kind: 'fresh' }, claimed)
      .then(() => undefined)
      .catch((err: Error) => this.logger.warn(`sender for app ${appId} failed: ${err.message}`))
      .finally(() => {
        this.senders.delete(sender);
        claimed();
      });
    this.senders.add(sender);
    await firstClaim;
  }

  private slotKey(callbackUrl: string): string {
    try {
      return `wh:${new URL(callbackUrl).origin}`;
    } catch {
      return `wh:${callbackUrl}`;
    }
  }

  // Returns whether anything was sent. While the app has a backlog the slot is kept and the next batch claimed
  // at once, instead of going back through the queue: the cycle between batches is what bounds a busy bot's
  // throughput, since a thread's next batch waits for its last. Bounded, so one job doesn't keep a slot forever.
  // `firstClaimed` is called once the first batch is claimed (or nothing was).
  private async send(target: Target, mode: ClaimMode, firstClaimed?: () => void): Promise<boolean> {
    // A job taken while shutting down claims nothing: the deliveries stay pending for another worker's
    // sender or reconciler.
    if (this.closing) {
      firstClaimed?.();
      return false;
    }
    const cap = Math.min(this.config.env.WEBHOOK_ENDPOINT_MAX_IN_FLIGHT, target.rampLimit ?? Infinity);
    const key = this.slotKey(target.callbackUrl);
    // The slot lapses leaseMs after it is taken (counted from a little after now): a round still open then would
    // let another sender take it, and the endpoint get more POSTs than its cap. None starts that late; the kick
    // below hands the backlog on to a sender with a fresh slot.
    const lastRoundBy = Date.now() + this.leaseMs - this.config.env.WEBHOOK_TIMEOUT_MS - ROUND_MARGIN_MS;
    // The per-origin cap: without a slot nothing is claimed; whoever holds one wakes the backlog when done.
    const slot = await this.limiter.tryAcquire(key, cap, this.leaseMs);
    if (!slot) return false;
    let sent = false;
    try {
      for (let round = 0; round < SEND_ROUNDS && !(round > 0 && (this.closing || Date.now() > lastRoundBy)); round++) {
        const claimed = await this.claim(target, round === 0 ? mode : { kind: 'more' });
        if (round === 0) firstClaimed?.();
        const members = claimed.members;
        if (!members.length) break;
        const until = Date.now() + CLAIM_MEMO_MS;
        for (const mb of members) this.recentlyClaimed.set(mb.id, until);
        if (this.recentlyClaimed.size > 50_000) {
          const now = Date.now();
          for (const [id, exp] of this.recentlyClaimed) if (exp <= now) this.recentlyClaimed.delete(id);
        }
        sent = true;
        // A full batch may have left other threads waiting. When the bot is slow to answer, wake another sender for
        // them while this POST is open (the slot semaphore bounds how many run; during a slow start, the ramp). A
        // fast bot is not helped by parallel batches, which only cost claims: it is not woken for.
        const fanOut =
          members.length >= this.maxBatchFor(target.appId) && target.rampLimit === null
            ? setTimeout(() => void this.webhooks.wake(target.appId).catch(() => undefined), SLOW_POST_MS)
            : undefined;
        const ok = await this.post(target, members, claimed.batchId, round === 0 ? mode : { kind: 'more' }).finally(() =>
          clearTimeout(fanOut),
        );
        // A failure has its own schedule; a probe sends one batch; a slow start widens one success at a time.
        if (!ok || mode.kind === 'probe' || target.rampLimit !== null) break;
      }
      return sent;
    } finally {
      await this.limiter.release(key, slot).catch(() => undefined);
      if (sent) await this.webhooks.kick(target.appId, cap).catch(() => undefined);
    }
  }

  // The claim is the fence, serialised per app: a delivery is taken only when pending, due, and nothing earlier
  // on its thread is outstanding outside its own batch. A retry re-forms the batch it was first sent in.
  private async claim(target: Target, mode: ClaimMode): Promise<{ members: Member[]; batchId: string }> {
    const appId = target.appId;
    const lease = this.leaseMs;
    const batchId = mode.kind === 'batch' ? mode.batchId : randomUUID();
    return this.sql.transaction(async (q) => {
      // Try, don't wait: a waiting claim would hold a pool connection; the holder's batch (and the kick after it)
      // covers whatever this trigger was for.
      // The claim's commit needn't wait for the WAL flush (see ASYNC_COMMIT).
      const [{ locked }] = await q<{ locked: boolean }>(
        `SELECT ${ASYNC_COMMIT}, pg_try_advisory_xact_lock(hashtext('sb-webhook-claim:' || $1)) AS locked`,
        [appId],
      );
      if (!locked) return { members: [], batchId };
      let pick: string;
      let params: unknown[];
      let sets = '';
      if (mode.kind === 'batch') {
        pick = `SELECT d.id FROM webhook_deliveries d
                 WHERE d.batch_id = $1 AND d.status = 'pending' AND d.next_attempt_at <= now() AND ${THREAD_HEAD_SQL}`;
        params = [batchId, lease];
      } else if (mode.kind === 'fresh' || mode.kind === 'more') {
        // A candidate's earlier thread-mates are all candidates too, so a prefix by seq holds thread heads and
        // consecutive events of one thread, in order.
        // Threads with something in flight, and each thread's first held-back delivery (a retry batch), are small
        // sets computed once from the held index, whatever the backlog (MATERIALIZED: a plan made from an
        // empty table's statistics re-ran the grouping for every candidate). An unbatched delivery is due at once
        // (a retry keeps its batch), so no unbatched row holds its thread back; and it is never filtered on
        // next_attempt_at: that now() is its writer's transaction start, which can be later than this claim's while a
        // thread-mate written after it (by a transaction begun earlier) is not, and the later event would go first.
        sets = `busy AS MATERIALIZED (
                  SELECT DISTINCT f.thread_key FROM webhook_deliveries f WHERE f.app_id = $3 AND f.status = 'in_flight'),
                held AS MATERIALIZED (
                  SELECT o.thread_key, min(o.seq) AS seq FROM webhook_deliveries o
                   WHERE o.app_id = $3 AND o.status = 'pending' AND o.batch_id IS NOT NULL
                   GROUP BY o.thread_key), `;
        // The batch is then taken thread by thread (oldest thread first) from the oldest candidates, enough for every
        // slot of the endpoint: still a prefix of each thread, but a batch no longer holds the head of every thread,
        // so other senders take the other threads at once (a backlog, or a slow bot, gets several batches in
        // flight instead of one at a time). The candidates are the app's pending rows walked in seq order, so a
        // claim reads about the rows it takes, not the whole backlog. The endpoint check names only the app: run once.
        sets += `cand AS (
                  SELECT d.id, d.thread_key, d.seq FROM webhook_deliveries d
                   WHERE d.app_id = $3 AND d.status = 'pending' AND d.batch_id IS NULL
                     AND NOT EXISTS (SELECT 1 FROM busy b WHERE b.thread_key = d.thread_key)
                     AND NOT EXISTS (SELECT 1 FROM held h WHERE h.thread_key = d.thread_key AND h.seq < d.seq)
                     ${mode.kind === 'more' ? `AND ${endpointOpenSql('$3', '$6')}` : ''}
                   ORDER BY d.seq LIMIT $5), `;
        pick = `SELECT w.id FROM cand w ORDER BY min(w.seq) OVER (PARTITION BY w.thread_key), w.seq LIMIT $4`;
        const maxBatch = this.maxBatchFor(appId);
        params = [batchId, lease, appId, maxBatch, maxBatch * Math.max(1, this.config.env.WEBHOOK_ENDPOINT_MAX_IN_FLIGHT)];
        // A later round goes on only while the endpoint is open and its URL is the one this sender read: the kick
        // after it starts a sender that reads a changed one.
        if (mode.kind === 'more') params.push(target.callbackUrl);
      } else {
        // A probe: the app's oldest pending delivery, with its batch if it had one. Fenced like any claim: a batch
        // still open when the endpoint was paused holds its threads (the slot semaphore would keep the probe out
        // too, but not once Redis has lost it).
        pick = `SELECT d.id FROM webhook_deliveries d
                 WHERE d.status = 'pending' AND d.batch_id IS NOT DISTINCT FROM (
                   SELECT h.batch_id FROM webhook_deliveries h WHERE h.app_id = $3 AND h.status = 'pending'
                    ORDER BY h.seq LIMIT 1)
                   AND d.app_id = $3 AND ${THREAD_HEAD_SQL}
                 ORDER BY d.seq LIMIT (CASE WHEN (SELECT h.batch_id FROM webhook_deliveries h
                   WHERE h.app_id = $3 AND h.status = 'pending' ORDER BY h.seq LIMIT 1) IS NULL THEN 1 ELSE $4 END)`;
        params = [batchId, lease, appId, this.config.env.WEBHOOK_MAX_BATCH];
      }
      // A delivery sent alone the first time keeps webhook-id = its own id; a batch gets $1. Prepared statements
      // switch to a generic plan after five runs, which can't see how few rows `pick` holds: written as an id
      // array and a per-row lookup, the update and the events stay on their primary keys (a hash join over the
      // whole tables took 0.7 s every few claims at a 5,000 backlog).
      const rows = await q<Member & { event_id: string; seq: string; batch_id: string }>(
        `WITH ${sets}pick AS (${pick}), c AS (
           UPDATE webhook_deliveries d
              SET status = 'in_flight', attempts = d.attempts + 1,
                  lease_until = now() + ($2::int * interval '1 millisecond'),
                  batch_id = COALESCE(d.batch_id,
                    CASE WHEN d.attempts = 0 AND (SELECT count(*) FROM pick) = 1 THEN d.id ELSE $1::uuid END)
            WHERE d.id = ANY (ARRAY(SELECT id FROM pick)) AND ${APP_LIVE_SQL}
           ${RETURNING})
         SELECT c.*, e.messaging, e.field FROM c CROSS JOIN LATERAL (
                  SELECT e.messaging, e.field FROM webhook_events e WHERE e.id = c.event_id) e
          ORDER BY c.seq`,
        params,
      );
      return { members: rows, batchId: rows[0]?.batch_id ?? batchId };
    });
  }

  // Whether the bot acknowledged the batch.
  private async post(target: Target, members: Member[], batchId: string, mode: ClaimMode): Promise<boolean> {
    const now = Date.now();
    // Messenger's own encoding (non-ASCII as \u escapes), signed as sent: see libs/webhook-signature/messenger-json.ts.
    const body = toMessengerJson({
      object: 'page',
      // Media URLs were signed when the event was recorded; a retry hours later needs live ones.
      entry: members.map((mb) => webhookEntry(mb.page_id, now, mb.field, openSealedItem(this.media.resignUrls(mb.messaging), this.config.secretBox))),
    });
    const attempt = Math.max(...members.map((mb) => mb.attempts));
    // A secret that can't be opened (sealed under another SECRETS_KEY) would fail every claim of the app alike,
    // each lease left to lapse and the batch claimed again, with nothing on record: it is this attempt's failure,
    // under the retry schedule and the endpoint's health like the bot's. Postgres away: the lease covers the batch.
    let signed: Record<string, string> = {};
    let signError: string | null = null;
    try {
      const secrets = await this.auth.signingSecrets(target.appId);
      signed = {
        ...signMessenger(body, secrets[0]),
        ...signStandard({ id: batchId, timestamp: Math.floor(now / 1000), body, secrets }),
      };
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
      signError = toStorableText(`signing: ${(err as Error).message}`);
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Switchboard-Webhooks/0.1',
      // Entry order: entry[i] is delivery ids[i]. webhook-id names the batch and survives its retries.
      'x-switchboard-delivery-ids': members.map((mb) => mb.id).join(','),
      'x-switchboard-attempt': String(attempt),
      ...signed,
    };
    if (members.length === 1) headers['x-switchboard-delivery-id'] = members[0].id;
    const reason = attempt > 1 ? members.find((mb) => mb.last_error)?.last_error : null;
    if (reason) headers['x-switchboard-retry-reason'] = reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
    if (mode.kind === 'probe') headers['x-switchboard-probe'] = '1';
    this.batchSize.observe(members.length);

    const started = new Date();
    let status: number | null = null;
    let error: string | null = null;
    let responseBody: string | null = null;
    let retryAfter: number | null = null;
    let latencyMs = 0;
    let outcome = 'success';
    try {
      if (signError) throw new Error(signError);
      const res = await this.http.request({
        method: 'POST',
        url: target.callbackUrl,
        headers,
        body,
        timeoutMs: this.config.env.WEBHOOK_TIMEOUT_MS,
        maxResponseBytes: this.config.env.WEBHOOK_RESPONSE_BODY_MAX_BYTES,
      });
      status = res.status;
      latencyMs = Math.round(res.latencyMs);
      // Kept as text: a NUL in it (a binary answer) would fail the settle's write, and the batch be sent forever.
      responseBody = toStorableText(res.body.toString('utf8'));
      retryAfter = retryAfterMs(res.headers['retry-after'], Date.now(), this.config.env.WEBHOOK_RETRY_AFTER_MAX_SECONDS * 1000);
      if (!isSuccess(status)) {
        error = `HTTP ${status}`;
        outcome = 'http_error';
      }
    } catch (err) {
      latencyMs = Date.now() - started.getTime();
      error = toStorableText(err instanceof SafeHttpError ? `${err.code}: ${err.message}` : (err as Error).message);
      outcome = err instanceof SafeHttpError ? err.code : signError ? 'signing' : 'unknown';
    }
    this.latency.observe(latencyMs / 1000);
    this.attemptsTotal.inc({ outcome });
    const record: AttemptRecord = { members, batchId, started, status, latencyMs, error, responseBody };
    if (!error) {
      await this.settling(batchId, () => this.settleSuccess(target, record, mode));
      return true;
    }
    await this.settling(batchId, async () => {
      await this.sql.query(`WITH a AS (${ATTEMPTS_INSERT_ALONE}) SELECT ${ASYNC_COMMIT}`, attemptParams(record));
      if (status === 410) await this.settleGone(target, members);
      else if (status === 413 && members.length > 1) await this.settleTooLarge(members, error, mode);
      else await this.settleFailure(target, members, error, retryAfter, mode);
    });
    return false;
  }

  // Each settle step is safe to run twice: attempt rows are unique per attempt, and a delivery is only moved
  // from the in-flight attempt it names. So a settle that lost Postgres is run again once it answers, instead
  // of leaving the batch leased (holding its threads, and sent again when the lease lapses). Shutting down,
  // it is given up: the lease covers it.
  private settling(batchId: string, settle: () => Promise<void>): Promise<void> {
    return retryWhileDatabaseAway(settle, {
      forMs: SETTLE_RETRY_MS,
      stop: () => this.closing,
      onFirstRetry: (err) => this.logger.warn(`batch ${batchId}: settle failed (${err.message}); trying again while Postgres is away`),
    });
  }


  // One statement: the attempt rows, the deliveries settled, and the endpoint's health. The endpoint row is
  // only rewritten when its state changes or its last success is a second old, so concurrent batches of one
  // app don't queue on its row lock.
  private async settleSuccess(target: Target, attempt: AttemptRecord, mode: ClaimMode): Promise<void> {
    const { members } = attempt;
    const params = attemptParams(attempt);
    const ramp = mode.kind === 'probe' ? 1 : nextRamp(target.rampLimit, this.config.env.WEBHOOK_ENDPOINT_MAX_IN_FLIGHT);
    const [$app, $ramp, $probe] = [params.push(target.appId), params.push(ramp), params.push(mode.kind === 'probe')].map((n) => `$${n}`);
    // A late failure of an older attempt can never overwrite this: it only matches its own attempt number.
    const [{ done }] = await this.sql.query<{ done: string[] | null }>(
      `WITH a AS (${ATTEMPTS_INSERT}), u AS (
         UPDATE webhook_deliveries d SET status = 'delivered', delivered_at = now(), lease_until = NULL, last_error = NULL
           FROM unnest($1::uuid[], $2::int[]) AS x(id, attempt)
          WHERE d.id = x.id AND d.status = 'in_flight' AND d.attempts = x.attempt
         RETURNING d.created_at
       ), ep AS (
         UPDATE webhook_endpoints
            SET last_success_at = now(), failing_since = NULL, warned_at = NULL,
                ramp_limit = CASE WHEN ${$probe} THEN 1 WHEN ramp_limit IS NULL THEN NULL ELSE ${$ramp}::int END,
                paused_at = CASE WHEN ${$probe} THEN NULL ELSE paused_at END,
                pause_reason = CASE WHEN ${$probe} THEN NULL ELSE pause_reason END
          WHERE app_id = ${$app}
            AND (${$probe} OR ramp_limit IS NOT NULL OR failing_since IS NOT NULL OR warned_at IS NOT NULL
                 OR last_success_at IS NULL OR last_success_at < now() - interval '1 second')
         RETURNING app_id
       ), ep_new AS (
         INSERT INTO webhook_endpoints (app_id, last_success_at, ramp_limit)
         SELECT ${$app}, now(), ${$ramp}::int WHERE NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE app_id = ${$app})
         ON CONFLICT (app_id) DO NOTHING
       )
       SELECT ${ASYNC_COMMIT}, (SELECT array_agg(created_at) FROM u) AS done`,
      params,
    );
    const now = Date.now();
    for (const c of done ?? []) this.deliveryLatency.observe((now - new Date(c).getTime()) / 1000);
    // The person's "Delivered": off the sender's path, since it changes nothing about this delivery.
    void this.receipts.received(members.map((mb) => ({ pageId: mb.page_id, field: mb.field, messaging: mb.messaging })));
    if (mode.kind === 'probe') {
      // Retries pushed far out while it failed become due: the backlog drains now, oldest first, ramping up.
      await this.db.query(
        `UPDATE webhook_deliveries SET next_attempt_at = now()
          WHERE app_id = $1 AND status = 'pending' AND next_attempt_at > now()`,
        [target.appId],
      );
      this.logger.log(`app ${target.appId}: probe succeeded, resuming delivery with a slow start`);
    }
  }

  // 410 Gone: the bot asks us to stop. The subscription is switched off with the reason; events are kept pending.
  private async settleGone(target: Target, members: Member[]): Promise<void> {
    for (const mb of members) this.recentlyClaimed.delete(mb.id);
    await this.returnToPending(members, 0, 'HTTP 410');
    await this.apps.setSubscriptionActive(target.appId, 'page', false, 'the callback answered 410 Gone');
    await this.recordError(target.appId, 'HTTP 410');
    await this.db.query(
      `UPDATE webhook_endpoints SET paused_at = COALESCE(paused_at, now()), pause_reason = 'the callback answered 410 Gone'
        WHERE app_id = $1`,
      [target.appId],
    );
    this.warnings.inc({ stage: 'paused' });
    this.logger.warn(`app ${target.appId}: callback answered 410 Gone; subscription paused, events kept`);
  }

  private maxBatchFor(appId: string): number {
    const learned = this.learnedBatch.get(appId);
    if (learned && learned.until > Date.now()) return Math.min(learned.size, this.config.env.WEBHOOK_MAX_BATCH);
    if (learned) this.learnedBatch.delete(appId);
    return this.config.env.WEBHOOK_MAX_BATCH;
  }

  // `batchId` re-forms them as a new batch (a new webhook-id), else they keep theirs.
  private async returnToPending(members: Member[], delayMs: number, error: string, batchId?: string): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries d
          SET status = 'pending', lease_until = NULL, last_error = $3,
              next_attempt_at = now() + ($4::int * interval '1 millisecond'), batch_id = COALESCE($5::uuid, d.batch_id)
         FROM unnest($1::uuid[], $2::int[]) AS x(id, attempt)
        WHERE d.id = x.id AND d.status = 'in_flight' AND d.attempts = x.attempt`,
      [members.map((mb) => mb.id), members.map((mb) => mb.attempts), error.slice(0, 1000), delayMs, batchId ?? null],
    );
  }

  // The bot refused the batch as too large (413: a body parser's limit, 100 KB in Express by default): sent again at
  // once as two smaller batches, halving down to single events, rather than the same batch again until its events
  // expire. Each half gets a new webhook-id (the bot accepted neither under the old one). Not an outage of the
  // endpoint: its health is left alone; a single event it refuses as too large fails as any other answer does.
  private async settleTooLarge(members: Member[], error: string, mode: ClaimMode): Promise<void> {
    for (const mb of members) this.recentlyClaimed.delete(mb.id);
    const halves = splitBatch(members);
    const size = Math.min(this.maxBatchFor(members[0].app_id), Math.max(...halves.map((h) => h.length)));
    this.learnedBatch.set(members[0].app_id, { size, until: Date.now() + LEARNED_BATCH_MS });
    for (const half of halves) {
      await this.returnToPending(half, 0, error, randomUUID());
      // A probe's endpoint is paused: its next probe takes the first half.
      if (mode.kind === 'probe') continue;
      await this.queue.add(
        DELIVERY_JOB,
        { deliveryId: half[0].id },
        { jobId: deliveryJobId(half[0].id, Math.max(...half.map((mb) => mb.attempts))) },
      );
    }
  }

  private async recordError(appId: string, error: string) {
    const [ep]: { failing_since: Date; warned_at: Date | null; paused_at: Date | null }[] = await this.db.query(
      `INSERT INTO webhook_endpoints (app_id, failing_since, last_error_at, last_error) VALUES ($1, now(), now(), $2)
       ON CONFLICT (app_id) DO UPDATE
         SET failing_since = COALESCE(webhook_endpoints.failing_since, now()), last_error_at = now(), last_error = $2,
             ramp_limit = CASE WHEN webhook_endpoints.ramp_limit IS NULL THEN NULL ELSE 1 END
       RETURNING failing_since, warned_at, paused_at`,
      [appId, error.slice(0, 1000)],
    );
    return ep;
  }

  private async settleFailure(
    target: Target,
    members: Member[],
    error: string,
    retryAfter: number | null,
    mode: ClaimMode,
  ): Promise<void> {
    const failedAttempts = Math.max(...members.map((mb) => mb.attempts));
    // One delay for the whole batch, so it is re-formed as it was (same webhook-id); Retry-After only lengthens it.
    const delay = Math.max(retryDelayMs(this.schedule, failedAttempts), retryAfter ?? 0);
    const maxAgeMs = this.config.env.WEBHOOK_MAX_AGE_SECONDS * 1000;
    const expired = members.filter((mb) => Date.now() - new Date(mb.created_at).getTime() > maxAgeMs);
    const retrying = members.filter((mb) => !expired.includes(mb));
    if (expired.length) {
      await this.db.query(
        `UPDATE webhook_deliveries d SET status = 'failed', lease_until = NULL, last_error = $3
           FROM unnest($1::uuid[], $2::int[]) AS x(id, attempt)
          WHERE d.id = x.id AND d.status = 'in_flight' AND d.attempts = x.attempt`,
        [expired.map((mb) => mb.id), expired.map((mb) => mb.attempts), error.slice(0, 1000)],
      );
      this.logger.warn(`${expired.length} deliveries to app ${target.appId} failed for good: ${error}`);
    }
    for (const mb of members) this.recentlyClaimed.delete(mb.id);
    if (retrying.length) await this.returnToPending(retrying, delay, error);

    const ep = await this.recordError(target.appId, error);
    const stage = failureStage(
      Date.now() - new Date(ep.failing_since).getTime(),
      this.config.env.WEBHOOK_WARN_AFTER_SECONDS,
      this.config.env.WEBHOOK_PAUSE_AFTER_SECONDS,
    );
    let paused = Boolean(ep.paused_at);
    if (stage !== 'ok' && !ep.warned_at) {
      const [w] = await this.db.query(
        `WITH u AS (UPDATE webhook_endpoints SET warned_at = now() WHERE app_id = $1 AND warned_at IS NULL RETURNING app_id)
         SELECT app_id FROM u`,
        [target.appId],
      );
      if (w) {
        this.warnings.inc({ stage: 'warning' });
        this.logger.warn(`app ${target.appId}: webhook failing since ${new Date(ep.failing_since).toISOString()}: ${error}`);
      }
    }
    if (stage === 'paused' && !paused) {
      const reason = `failing since ${new Date(ep.failing_since).toISOString()}: ${error}`.slice(0, 1000);
      const [p] = await this.db.query(
        `WITH u AS (
           UPDATE webhook_endpoints SET paused_at = now(), pause_reason = $2 WHERE app_id = $1 AND paused_at IS NULL
           RETURNING app_id)
         SELECT app_id FROM u`,
        [target.appId, reason],
      );
      if (p) {
        this.warnings.inc({ stage: 'paused' });
        this.logger.warn(`app ${target.appId}: webhook delivery paused (${reason}); every event is kept`);
      }
      paused = true;
    }
    // While paused only the probe sends; the retry job would find nothing to do.
    if (!paused && mode.kind !== 'probe' && retrying.length) {
      await this.queue.add(
        DELIVERY_JOB,
        { deliveryId: retrying[0].id },
        { jobId: deliveryJobId(retrying[0].id, failedAttempts), delayMs: delay },
      );
    }
  }

  // Finds what the queue lost (crash, flush, eviction) and lapsed claims of dead workers; Postgres is the truth.
  // Also probes paused endpoints.
  async reconcile(): Promise<void> {
    if (this.reconciling) return;
    this.reconciling = true;
    try {
      await this.db.query(
        `UPDATE webhook_deliveries SET status = 'pending', lease_until = NULL
          WHERE status = 'in_flight' AND lease_until < now() AND target = 'webhook'`,
      );
      await this.probePaused();
      // One job wakes a whole app (a fresh claim takes whatever may go) or a whole retry batch, so one delivery
      // each stands for its app's fresh backlog and for each batch: the oldest. Not a job per pending row: a
      // drained backlog is thousands, and new events wake their app without a job of their own. The apps with a
      // fresh backlog are found by skipping through the unclaimed index, one probe per app, and the batches come
      // from the held index: the sweep reads about one row per job, however deep the backlogs are.
      const due: { id: string }[] = await this.db.query(
        `WITH RECURSIVE backlog AS (
           (SELECT d.app_id FROM webhook_deliveries d
             WHERE d.status = 'pending' AND d.batch_id IS NULL ORDER BY d.app_id LIMIT 1)
           UNION ALL
           SELECT (SELECT d.app_id FROM webhook_deliveries d
                    WHERE d.status = 'pending' AND d.batch_id IS NULL AND d.app_id > a.app_id ORDER BY d.app_id LIMIT 1)
             FROM backlog a WHERE a.app_id IS NOT NULL)
         SELECT x.id FROM (
           SELECT f.id, f.seq FROM backlog a
            CROSS JOIN LATERAL (
              SELECT d.id, d.seq FROM webhook_deliveries d
               WHERE d.app_id = a.app_id AND d.status = 'pending' AND d.batch_id IS NULL AND d.target = 'webhook'
               ORDER BY d.seq LIMIT 1) f
            WHERE a.app_id IS NOT NULL AND ${endpointOpenSql('a.app_id')}
           UNION ALL
           (SELECT DISTINCT ON (d.batch_id) d.id, d.seq FROM webhook_deliveries d
             WHERE d.status = 'pending' AND d.batch_id IS NOT NULL AND d.next_attempt_at <= now() AND d.target = 'webhook'
               AND ${ENDPOINT_OPEN_SQL}
             ORDER BY d.batch_id, d.seq)) x
          ORDER BY x.seq LIMIT 1000`,
      );
      if (!due.length) return;
      const queued = new Set([...(await this.queue.pendingIds(DELIVERY_JOB))].map(deliveryIdOfJob));
      const missing = due.map((r) => r.id).filter((id) => !queued.has(id));
      if (missing.length) await this.webhooks.dispatch(missing);
    } catch (err) {
      this.logger.error(`reconcile failed: ${(err as Error).message}`);
    } finally {
      this.reconciling = false;
    }
  }

  // A paused endpoint (not one that said 410) gets its oldest pending delivery tried every probe interval;
  // the UPDATE lets one worker of many take each probe.
  private async probePaused(): Promise<void> {
    const due: { app_id: string; callback_url: string }[] = await this.db.query(
      `WITH u AS (
         UPDATE webhook_endpoints ep SET last_probe_at = now()
           FROM app_subscriptions s
          WHERE s.app_id = ep.app_id AND s.object = 'page' AND s.active
            AND ep.paused_at IS NOT NULL
            AND GREATEST(ep.paused_at, COALESCE(ep.last_probe_at, ep.paused_at)) < now() - ($1::int * interval '1 second')
         RETURNING ep.app_id, s.callback_url)
       SELECT app_id, callback_url FROM u`,
      [this.config.env.WEBHOOK_PROBE_INTERVAL_SECONDS],
    );
    for (const p of due) {
      // A sender of its own, so a shutdown waits for its settle too (else the acknowledged probe is sent again and
      // the endpoint stays paused until the next one).
      const probe: Promise<void> = this.send(
        { appId: p.app_id, callbackUrl: p.callback_url, rampLimit: 1, paused: true },
        { kind: 'probe' },
      )
        .then(() => undefined)
        .catch((err) => this.logger.error(`probe of app ${p.app_id} failed: ${(err as Error).message}`))
        .finally(() => this.senders.delete(probe));
      this.senders.add(probe);
    }
  }
}
