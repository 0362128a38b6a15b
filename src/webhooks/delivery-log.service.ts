import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MediaService } from '../media/media.service';
import { AppsService } from '../apps/apps.service';
import { badRequest, conflict, notFound } from '../common/errors/app.exception';
import { isUuid } from '../common/ids/uuid';
import { AppConfig } from '../config/app-config';
import { openSealedItem } from './sealed-items';
import { DeliveryReceipts } from './delivery-receipts';
import { webhookEntry, WebhooksService } from './webhooks.service';

const REPLAY_MAX = 10_000;
const ATTEMPT_BODY_MAX = 4096;

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

// What a developer sees of their app's webhooks: health (getWebhookInfo), the attempt log, retry, replay, pull.
@Injectable()
export class DeliveryLogService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly apps: AppsService,
    private readonly webhooks: WebhooksService,
    private readonly config: AppConfig,
    private readonly media: MediaService,
    private readonly receipts: DeliveryReceipts,
  ) {}

  onModuleInit(): void {
    this.apps.onPageSubscribed((appId) => this.pushPulled(appId));
  }

  // An app that subscribes after pulling: what it has not acknowledged is pushed, oldest first (served but not
  // yet acknowledged ones too: at least once).
  async pushPulled(appId: string): Promise<void> {
    const rows: unknown[] = await this.db.query(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now()
        WHERE app_id = $1 AND status = 'pull' AND target = 'webhook' RETURNING 1`,
      [appId],
    );
    if (rows.length) await this.webhooks.kick(appId);
  }

  async health(appId: string) {
    const sub = await this.apps.findSubscription(appId, 'page');
    const [ep] = await this.db.query(`SELECT * FROM webhook_endpoints WHERE app_id = $1`, [appId]);
    const [backlog] = await this.db.query(
      `SELECT count(*)::int AS pending, min(created_at) AS oldest,
              count(*) FILTER (WHERE status = 'in_flight')::int AS in_flight
         FROM webhook_deliveries WHERE app_id = $1 AND status IN ('pending', 'in_flight')`,
      [appId],
    );
    const [rate] = await this.db.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE x.error IS NULL)::int AS ok
         FROM (SELECT DISTINCT ON (a.batch_id, a.started_at) a.error
                 FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
                WHERE d.app_id = $1 AND a.started_at > now() - interval '1 hour'
                ORDER BY a.batch_id, a.started_at) x`,
      [appId],
    );
    const [pulls] = await this.db.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries WHERE app_id = $1 AND status = 'pull'`,
      [appId],
    );
    const failingFor = ep?.failing_since ? Math.round((Date.now() - new Date(ep.failing_since).getTime()) / 1000) : 0;
    const stage = ep?.paused_at ? 'paused' : ep?.warned_at ? 'warning' : 'ok';
    return {
      url: sub?.callbackUrl ?? null,
      mode: sub ? 'push' : 'pull',
      active: sub?.active ?? false,
      inactive_reason: sub?.inactiveReason ?? null,
      state: stage,
      warning:
        stage === 'ok'
          ? null
          : `Deliveries have been failing for ${failingFor} s (last error: ${ep.last_error ?? 'unknown'}). ` +
            (stage === 'paused'
              ? 'Delivery is paused; every event is kept and will be sent on resume.'
              : `Delivery pauses after ${this.config.env.WEBHOOK_PAUSE_AFTER_SECONDS} s of failure.`),
      failing_since: iso(ep?.failing_since ?? null),
      paused_at: iso(ep?.paused_at ?? null),
      pause_reason: ep?.pause_reason ?? null,
      pending_update_count: backlog.pending,
      pending_pull_count: pulls.n,
      in_flight_count: backlog.in_flight,
      oldest_pending_age_seconds: backlog.oldest ? Math.round((Date.now() - new Date(backlog.oldest).getTime()) / 1000) : null,
      last_error_date: iso(ep?.last_error_at ?? null),
      last_error_message: ep?.last_error ?? null,
      last_success_date: iso(ep?.last_success_at ?? null),
      // Over the POSTs of the last hour (a batch counts once).
      success_rate_1h: rate.n ? rate.ok / rate.n : null,
      attempts_1h: rate.n,
      max_in_flight: ep?.ramp_limit ?? this.config.env.WEBHOOK_ENDPOINT_MAX_IN_FLIGHT,
      max_batch: this.config.env.WEBHOOK_MAX_BATCH,
    };
  }

  // Developer resume: clears a pause (and a 410 switch-off) and drains the backlog oldest first, slow start.
  async resume(appId: string) {
    const sub = await this.apps.findSubscription(appId, 'page');
    if (!sub) throw notFound('WEBHOOK.NO_SUBSCRIPTION', `App ${appId} has no page subscription`);
    if (!sub.active) await this.apps.setSubscriptionActive(appId, 'page', true, null);
    await this.db.query(
      `INSERT INTO webhook_endpoints (app_id, ramp_limit) VALUES ($1, 1)
       ON CONFLICT (app_id) DO UPDATE
         SET paused_at = NULL, pause_reason = NULL, failing_since = NULL, warned_at = NULL, ramp_limit = 1`,
      [appId],
    );
    // Retries scheduled far ahead while it failed become due now.
    await this.db.query(
      `UPDATE webhook_deliveries SET next_attempt_at = now() WHERE app_id = $1 AND status = 'pending' AND next_attempt_at > now()`,
      [appId],
    );
    await this.webhooks.kick(appId, 1);
    return this.health(appId);
  }

  async list(appId: string, q: { status?: string; since?: string; until?: string; limit?: number; cursor?: string }) {
    const limit = q.limit ?? 50;
    const where = ['d.app_id = $1'];
    const params: unknown[] = [appId];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (q.status) add('d.status = ?', q.status);
    if (q.since) add('d.created_at >= ?', new Date(q.since));
    if (q.until) add('d.created_at < ?', new Date(q.until));
    if (q.cursor) add('d.seq < ?', q.cursor);
    params.push(limit + 1);
    const rows = await this.db.query(
      `SELECT d.id, d.seq, d.status, d.attempts, d.thread_key, d.page_id, d.batch_id, d.created_at, d.delivered_at,
              d.next_attempt_at, d.last_error, e.field
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE ${where.join(' AND ')} ORDER BY d.seq DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit);
    return {
      data: page.map((r: Record<string, unknown>) => this.view(r)),
      paging: { next_cursor: rows.length > limit ? String(page[page.length - 1].seq) : null },
    };
  }

  private view(r: Record<string, any>) {
    return {
      id: r.id,
      status: r.status,
      field: r.field,
      page_id: r.page_id,
      thread_key: r.thread_key,
      webhook_id: r.batch_id,
      attempts: r.attempts,
      created_at: iso(r.created_at),
      delivered_at: iso(r.delivered_at),
      next_attempt_at: r.status === 'pending' ? iso(r.next_attempt_at) : null,
      last_error: r.last_error,
    };
  }

  async get(appId: string, deliveryId: string) {
    if (!isUuid(deliveryId)) throw notFound('WEBHOOK.DELIVERY_NOT_FOUND', `No delivery ${deliveryId}`);
    const [d] = await this.db.query(
      `SELECT d.*, e.field, e.messaging FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE d.id = $1 AND d.app_id = $2`,
      [deliveryId, appId],
    );
    if (!d) throw notFound('WEBHOOK.DELIVERY_NOT_FOUND', `No delivery ${deliveryId}`);
    const attempts = await this.db.query(
      `SELECT attempt, batch_id, started_at, status_code, latency_ms, error, response_body
         FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt`,
      [deliveryId],
    );
    return {
      ...this.view(d),
      payload: { object: 'page', entry: [webhookEntry(d.page_id, new Date(d.created_at).getTime(), d.field, openSealedItem(d.messaging, this.config.secretBox))] },
      attempt_log: attempts.map((a: Record<string, any>) => ({
        attempt: a.attempt,
        webhook_id: a.batch_id,
        time: iso(a.started_at),
        status_code: a.status_code,
        latency_ms: a.latency_ms,
        error: a.error,
        response_body: a.response_body === null ? null : String(a.response_body).slice(0, ATTEMPT_BODY_MAX),
      })),
    };
  }

  // A manual retry or a replay resets the delivery row: same id, attempts keep counting, and it is sent again in
  // a new batch (a new webhook-id, so a receiver that deduplicates on webhook-id does not drop what was asked for).
  async retry(appId: string, deliveryId: string) {
    if (!isUuid(deliveryId)) throw notFound('WEBHOOK.DELIVERY_NOT_FOUND', `No delivery ${deliveryId}`);
    const [d] = await this.db.query(`SELECT status FROM webhook_deliveries WHERE id = $1 AND app_id = $2`, [
      deliveryId,
      appId,
    ]);
    if (!d) throw notFound('WEBHOOK.DELIVERY_NOT_FOUND', `No delivery ${deliveryId}`);
    if (d.status === 'in_flight') throw conflict('WEBHOOK.IN_FLIGHT', 'The delivery is being attempted right now');
    if (d.status === 'pull') throw conflict('WEBHOOK.PULL_MODE', 'The delivery waits to be pulled from /events');
    if (!(await this.reset(appId, `d.id = $2`, [deliveryId]))) {
      // Nothing reset: the page disconnected the app, or the delivery was claimed since it was read.
      const [connected] = await this.db.query(
        `SELECT 1 FROM webhook_deliveries d JOIN page_apps pa ON pa.page_id = d.page_id AND pa.app_id = d.app_id WHERE d.id = $1`,
        [deliveryId],
      );
      if (connected) throw conflict('WEBHOOK.IN_FLIGHT', 'The delivery is being attempted right now');
      throw conflict('WEBHOOK.PAGE_DISCONNECTED', "The delivery's page no longer has this app connected");
    }
    await this.webhooks.kick(appId);
    return this.get(appId, deliveryId);
  }

  async replay(appId: string, since: string, until: string, status?: 'delivered' | 'failed') {
    const from = new Date(since);
    const to = new Date(until);
    if (!(from < to)) throw badRequest('WEBHOOK.BAD_RANGE', 'since must be before until');
    const n = await this.reset(appId, `d.created_at >= $2 AND d.created_at < $3 AND d.status = ANY($4)`, [
      from,
      to,
      status ? [status] : ['delivered', 'failed'],
    ]);
    await this.webhooks.kick(appId);
    return { replayed: n, limit: REPLAY_MAX };
  }

  private async reset(appId: string, filter: string, params: unknown[]): Promise<number> {
    const [{ n }] = await this.db.query(
      `WITH u AS (
         UPDATE webhook_deliveries SET status = 'pending', batch_id = NULL, next_attempt_at = now(), delivered_at = NULL,
                lease_until = NULL
          WHERE id IN (SELECT d.id FROM webhook_deliveries d
                        WHERE d.app_id = $1 AND d.status IN ('pending', 'delivered', 'failed') AND ${filter}
                          -- Nothing goes again to an app its page has disconnected.
                          AND EXISTS (SELECT 1 FROM page_apps pa WHERE pa.page_id = d.page_id AND pa.app_id = d.app_id)
                        ORDER BY d.seq LIMIT ${REPLAY_MAX})
         RETURNING id)
       SELECT count(*)::int AS n FROM u`,
      [appId, ...params],
    );
    return n;
  }

  // getUpdates: `after` acknowledges every event the app was served up to it; the rest come oldest first.
  async pull(appId: string, after: string | undefined, limit = 100) {
    // An app that dropped its subscription pulls what waited to be pushed, and what a failed attempt in flight at
    // the time has put back since. Unserved, whatever attempts the webhook made.
    await this.db.query(
      `UPDATE webhook_deliveries SET status = 'pull', batch_id = NULL, served_at = NULL
        WHERE app_id = $1 AND status = 'pending' AND target = 'webhook'
          AND NOT EXISTS (SELECT 1 FROM app_subscriptions s WHERE s.app_id = $1 AND s.object = 'page')`,
      [appId],
    );
    if (after) {
      const acked: { page_id: string; field: string; messaging: Record<string, unknown> }[] = await this.db.query(
        `WITH a AS (
           UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now()
            WHERE app_id = $1 AND status = 'pull' AND seq <= $2 AND served_at IS NOT NULL
           RETURNING page_id, event_id)
         SELECT a.page_id, e.field, e.messaging FROM a JOIN webhook_events e ON e.id = a.event_id`,
        [appId, after],
      );
      await this.receipts.received(acked.map((r) => ({ pageId: r.page_id, field: r.field, messaging: r.messaging })));
    }
    // Only served events can be acknowledged, so one committed late (or turned into pull late) is never skipped.
    const rows = await this.db.query(
      `WITH s AS (
         UPDATE webhook_deliveries d SET attempts = d.attempts + 1, served_at = coalesce(d.served_at, now())
          WHERE d.id IN (SELECT id FROM webhook_deliveries WHERE app_id = $1 AND status = 'pull' ORDER BY seq LIMIT $2)
         RETURNING d.id, d.seq, d.page_id, d.event_id, d.created_at)
       SELECT s.*, e.field, e.messaging FROM s JOIN webhook_events e ON e.id = s.event_id ORDER BY s.seq`,
      [appId, limit],
    );
    return {
      data: rows.map((r: Record<string, any>) => ({
        cursor: String(r.seq),
        delivery_id: r.id,
        object: 'page',
        entry: [webhookEntry(r.page_id, new Date(r.created_at).getTime(), r.field, openSealedItem(this.media.resignUrls(r.messaging), this.config.secretBox))],
      })),
      paging: { next_cursor: rows.length ? String(rows[rows.length - 1].seq) : (after ?? null) },
    };
  }
}
