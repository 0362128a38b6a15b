import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Counter, Histogram } from 'prom-client';
import { DataSource } from 'typeorm';
import { SafeHttpClient, SafeHttpError } from '../../../libs/safe-http';
import { signMessenger, signStandard } from '../../../libs/webhook-signature';
import { AuthService } from '../../auth/auth.service';
import { AppConfig } from '../../config/app-config';
import { MetricsService } from '../../health/metrics.service';
import { OUTBOUND_HTTP } from '../../infra/http/outbound-http';
import { QUEUE, QueuePort } from '../../infra/queue/queue.port';
import { isSuccess, parseSchedule, retryAfterMs, retryDelayMs } from '../retry-policy';
import { DELIVERY_JOB, deliveryIdOfJob, deliveryJobId, WebhooksService } from '../webhooks.service';

interface ClaimedDelivery {
  id: string;
  app_id: string;
  page_id: string;
  thread_key: string;
  attempts: number;
  created_at: Date;
  messaging: Record<string, unknown>;
  callback_url: string | null;
}

// Claims a delivery (one worker wins), POSTs it signed, records the attempt, then settles or schedules a retry.
@Injectable()
export class WebhookDeliveryProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('WebhookDelivery');
  private readonly schedule: number[];
  private reconcileTimer?: NodeJS.Timeout;
  private reconciling = false;
  private readonly attemptsTotal: Counter<'outcome'>;
  private readonly latency: Histogram;

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(QUEUE) private readonly queue: QueuePort,
    @Inject(OUTBOUND_HTTP) private readonly http: SafeHttpClient,
    private readonly auth: AuthService,
    private readonly webhooks: WebhooksService,
    metrics: MetricsService,
  ) {
    this.schedule = parseSchedule(config.env.WEBHOOK_RETRY_SCHEDULE);
    this.attemptsTotal = new Counter({
      name: 'switchboard_webhook_attempts_total',
      help: 'Webhook delivery attempts by outcome',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    this.latency = new Histogram({
      name: 'switchboard_webhook_attempt_duration_seconds',
      help: 'Time from POST to the bot answering',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.runsWorkers) return;
    this.queue.process(DELIVERY_JOB, ({ deliveryId }) => this.deliver(deliveryId), {
      concurrency: this.config.env.WEBHOOK_CONCURRENCY,
    });
    this.reconcileTimer = setInterval(() => void this.reconcile(), this.config.env.WEBHOOK_RECONCILE_INTERVAL_MS);
    this.reconcileTimer.unref();
    void this.reconcile();
  }

  onModuleDestroy(): void {
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
  }

  async deliver(deliveryId: string): Promise<void> {
    const leaseMs = this.config.env.WEBHOOK_TIMEOUT_MS + 30_000;
    // The claim is the fence: only a pending, due delivery with nothing earlier outstanding on its thread is taken.
    const [claimed]: ClaimedDelivery[] = await this.db.query(
      `WITH c AS (
         UPDATE webhook_deliveries d
            SET status = 'in_flight', attempts = d.attempts + 1, lease_until = now() + ($2::int * interval '1 millisecond')
          WHERE d.id = $1 AND d.status = 'pending' AND d.next_attempt_at <= now() AND d.target = 'webhook'
            AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries o
               WHERE o.app_id = d.app_id AND o.thread_key = d.thread_key AND o.seq < d.seq
                 AND o.status IN ('pending', 'in_flight'))
        RETURNING d.id, d.app_id, d.page_id, d.thread_key, d.attempts, d.created_at, d.event_id)
       SELECT c.*, e.messaging, s.callback_url
         FROM c JOIN webhook_events e ON e.id = c.event_id
         LEFT JOIN app_subscriptions s ON s.app_id = c.app_id AND s.object = 'page' AND s.active`,
      [deliveryId, leaseMs],
    );
    if (!claimed) return;
    if (!claimed.callback_url) {
      await this.settleFailure(claimed, 'the app has no active webhook subscription', null, true);
      return;
    }

    const body = JSON.stringify({
      object: 'page',
      entry: [{ id: claimed.page_id, time: Date.now(), messaging: [claimed.messaging] }],
    });
    const secrets = await this.auth.signingSecrets(claimed.app_id);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Switchboard-Webhooks/0.1',
      'x-switchboard-delivery-id': claimed.id,
      'x-switchboard-attempt': String(claimed.attempts),
      ...signMessenger(body, secrets[0]),
      ...signStandard({ id: claimed.id, timestamp: Math.floor(Date.now() / 1000), body, secrets }),
    };
    const started = new Date();
    let status: number | null = null;
    let error: string | null = null;
    let responseBody: string | null = null;
    let retryAfter: number | null = null;
    let latencyMs = 0;
    try {
      const res = await this.http.request({
        method: 'POST',
        url: claimed.callback_url,
        headers,
        body,
        timeoutMs: this.config.env.WEBHOOK_TIMEOUT_MS,
        maxResponseBytes: this.config.env.WEBHOOK_RESPONSE_BODY_MAX_BYTES,
      });
      status = res.status;
      latencyMs = Math.round(res.latencyMs);
      responseBody = res.body.toString('utf8');
      retryAfter = retryAfterMs(res.headers['retry-after']);
      if (!isSuccess(status)) error = `HTTP ${status}`;
    } catch (err) {
      latencyMs = Date.now() - started.getTime();
      error = err instanceof SafeHttpError ? `${err.code}: ${err.message}` : (err as Error).message;
    }
    this.latency.observe(latencyMs / 1000);
    await this.db.query(
      `INSERT INTO webhook_attempts (id, delivery_id, attempt, started_at, status_code, latency_ms, error, response_body)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (delivery_id, attempt) DO NOTHING`,
      [randomUUID(), claimed.id, claimed.attempts, started, status, latencyMs, error, responseBody],
    );
    if (!error) {
      this.attemptsTotal.inc({ outcome: 'success' });
      await this.settleSuccess(claimed);
    } else {
      this.attemptsTotal.inc({ outcome: status === null ? 'network_error' : 'http_error' });
      await this.settleFailure(claimed, error, retryAfter, false);
    }
  }

  private async settleSuccess(d: ClaimedDelivery): Promise<void> {
    // A late failure of an older attempt can never overwrite this: it only matches its own attempt number.
    await this.db.query(
      `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), lease_until = NULL, last_error = NULL
        WHERE id = $1 AND status = 'in_flight' AND attempts = $2`,
      [d.id, d.attempts],
    );
    await this.releaseNextInThread(d.app_id, d.thread_key);
  }

  private async settleFailure(
    d: ClaimedDelivery,
    error: string,
    retryAfter: number | null,
    permanent: boolean,
  ): Promise<void> {
    const ageMs = Date.now() - new Date(d.created_at).getTime();
    const giveUp = permanent || ageMs > this.config.env.WEBHOOK_MAX_AGE_SECONDS * 1000;
    const delay = Math.max(retryDelayMs(this.schedule, d.attempts), retryAfter ?? 0);
    await this.db.query(
      `UPDATE webhook_deliveries
          SET status = $3, lease_until = NULL, last_error = $4,
              next_attempt_at = now() + ($5::int * interval '1 millisecond')
        WHERE id = $1 AND status = 'in_flight' AND attempts = $2`,
      [d.id, d.attempts, giveUp ? 'failed' : 'pending', error.slice(0, 1000), giveUp ? 0 : delay],
    );
    if (giveUp) {
      this.logger.warn(`delivery ${d.id} to app ${d.app_id} failed for good: ${error}`);
      await this.releaseNextInThread(d.app_id, d.thread_key);
      return;
    }
    await this.queue.add(DELIVERY_JOB, { deliveryId: d.id }, { jobId: deliveryJobId(d.id, d.attempts), delayMs: delay });
  }

  // The next event of the same thread was waiting for this one.
  private async releaseNextInThread(appId: string, threadKey: string): Promise<void> {
    const [next]: { id: string }[] = await this.db.query(
      `SELECT id FROM webhook_deliveries
        WHERE app_id = $1 AND thread_key = $2 AND status = 'pending' AND next_attempt_at <= now()
        ORDER BY seq LIMIT 1`,
      [appId, threadKey],
    );
    if (next) await this.webhooks.dispatch([next.id]);
  }

  // Finds what the queue lost (crash, flush, eviction) and lapsed claims of dead workers; Postgres is the truth.
  async reconcile(): Promise<void> {
    if (this.reconciling) return;
    this.reconciling = true;
    try {
      await this.db.query(
        `UPDATE webhook_deliveries SET status = 'pending', lease_until = NULL
          WHERE status = 'in_flight' AND lease_until < now() AND target = 'webhook'`,
      );
      const due: { id: string }[] = await this.db.query(
        `SELECT d.id FROM webhook_deliveries d
          WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND d.target = 'webhook'
            AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries o
               WHERE o.app_id = d.app_id AND o.thread_key = d.thread_key AND o.seq < d.seq
                 AND o.status IN ('pending', 'in_flight'))
          ORDER BY d.seq LIMIT 1000`,
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
}
