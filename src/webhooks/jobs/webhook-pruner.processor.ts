import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Counter } from 'prom-client';
import { AppConfig } from '../../config/app-config';
import { SqlQuery, SqlService } from '../../database/sql.service';
import { MetricsService } from '../../health/metrics.service';
import { PRUNE_LOCK } from './prune-lock';

const BATCH = 2000;
// Per tick, so one run never holds a worker (or the tables) for long; when work is left the next tick comes soon.
const MAX_BATCHES = 50;
const CATCH_UP_DELAY_MS = 1000;
// A delivery is finished when delivered (a pull cursor's acknowledgement included) or failed for good.
const FINISHED = ['delivered', 'failed'];

export interface PruneResult {
  deliveries: number;
  attempts: number;
  events: number;
  // The tick stopped at its cap with old history left.
  more: boolean;
}

// Worker-role processes only: every WEBHOOK_PRUNE_INTERVAL_MS, deletes finished deliveries past
// WEBHOOK_RETENTION_SECONDS (counted from delivery; a failed one from its event) with their attempts, then each
// event none of whose deliveries remains. An unfinished delivery (pending, in flight, not yet pulled) keeps itself
// and its event whatever their age.
@Injectable()
export class WebhookPrunerProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('WebhookPruner');
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  private readonly pruned: Counter<'kind'>;

  constructor(
    private readonly config: AppConfig,
    private readonly sql: SqlService,
    metrics: MetricsService,
  ) {
    this.pruned = new Counter({
      name: 'switchboard_webhook_pruned_total',
      help: 'Webhook history deleted past WEBHOOK_RETENTION_SECONDS, by kind (deliveries, attempts, events)',
      labelNames: ['kind'],
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.runsWorkers) this.schedule(this.config.env.WEBHOOK_PRUNE_INTERVAL_MS);
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      const { more } = await this.tick();
      this.schedule(more ? CATCH_UP_DELAY_MS : this.config.env.WEBHOOK_PRUNE_INTERVAL_MS);
    }, delayMs);
    this.timer.unref();
  }

  async tick(): Promise<PruneResult> {
    const total: PruneResult = { deliveries: 0, attempts: 0, events: 0, more: false };
    if (this.running) return total;
    this.running = true;
    try {
      // Each app's finished deliveries whose first (in seq order) is past retention, the most overdue first:
      // two index probes per app find them. Round robin after that, so one app's long history delays no other's.
      let due = await this.sql.query<{ app_id: string; status: string; after: string }>(
        `SELECT a.id AS app_id, s.status, '0' AS after FROM apps a CROSS JOIN unnest($1::varchar[]) AS s(status)
           CROSS JOIN LATERAL (SELECT coalesce(d.delivered_at, d.created_at) AS finished FROM webhook_deliveries d
                                WHERE d.app_id = a.id AND d.status = s.status ORDER BY d.seq LIMIT 1) head
          WHERE head.finished < now() - $2::int * interval '1 second'
          ORDER BY head.finished`,
        [FINISHED, this.config.env.WEBHOOK_RETENTION_SECONDS],
      );
      let batches = 0;
      // Round robin over what is due, a batch each, until nothing is left or the tick's cap.
      while (due.length) {
        const left: typeof due = [];
        for (const d of due) {
          if (batches++ >= MAX_BATCHES) {
            total.more = true;
            return total;
          }
          const batch = await this.sql.transaction((q) => this.pruneBatch(q, d.app_id, d.status, d.after));
          if (!batch) {
            this.logger.debug('another worker holds the pruning lock: this tick yields');
            return total;
          }
          total.deliveries += batch.deliveries;
          total.attempts += batch.attempts;
          total.events += batch.events;
          this.pruned.inc({ kind: 'deliveries' }, batch.deliveries);
          this.pruned.inc({ kind: 'attempts' }, batch.attempts);
          this.pruned.inc({ kind: 'events' }, batch.events);
          if (batch.next) left.push({ ...d, after: batch.next });
        }
        due = left;
      }
    } catch (err) {
      this.logger.warn(`pruning webhook history failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
      if (total.deliveries) {
        this.logger.log(`removed ${total.deliveries} deliveries, ${total.attempts} attempts and ${total.events} events past retention`);
      }
    }
    return total;
  }

  // The next BATCH of one app's finished deliveries in seq order after `after`; the walk goes on while it deletes
  // whole batches. One still within retention (delivered late, after a pause or a late pull) ends it and holds
  // back the batches after it until it expires: history kept longer than retention, never shorter, and no tick
  // spends itself re-reading young rows. Answers where the next batch starts, or null when this one was the last.
  private async pruneBatch(
    q: SqlQuery,
    appId: string,
    status: string,
    after: string,
  ): Promise<(Omit<PruneResult, 'more'> & { next: string | null }) | null> {
    const [{ locked }] = await q<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock($1, $2) AS locked`, PRUNE_LOCK);
    if (!locked) return null;
    const [gone] = await q<{ scanned: number; last: string; deliveries: number; attempts: number; events: string[] }>(
      `WITH head AS (
         SELECT id, seq FROM webhook_deliveries WHERE app_id = $1 AND status = $2 AND seq > $5
          ORDER BY seq LIMIT $3
       ), gone AS (
         DELETE FROM webhook_deliveries d USING head
          WHERE d.id = head.id AND d.status = $2
            AND coalesce(d.delivered_at, d.created_at) < now() - $4::int * interval '1 second'
         RETURNING d.id, d.event_id
       ), attempts AS (
         DELETE FROM webhook_attempts a USING gone WHERE a.delivery_id = gone.id RETURNING 1
       )
       SELECT (SELECT count(*) FROM head)::int AS scanned, (SELECT max(seq) FROM head) AS last,
              (SELECT count(*) FROM gone)::int AS deliveries, (SELECT count(*) FROM attempts)::int AS attempts,
              (SELECT coalesce(array_agg(DISTINCT event_id), '{}') FROM gone) AS events`,
      [appId, status, BATCH, this.config.env.WEBHOOK_RETENTION_SECONDS, after],
    );
    // A later statement of the transaction sees this one's deletions: an event goes with its last delivery.
    const [{ events }] = gone.events.length
      ? await q<{ events: number }>(
          `WITH e AS (
             DELETE FROM webhook_events e WHERE e.id = ANY($1::uuid[])
                AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
             RETURNING 1)
           SELECT count(*)::int AS events FROM e`,
          [gone.events],
        )
      : [{ events: 0 }];
    return {
      deliveries: gone.deliveries,
      attempts: gone.attempts,
      events,
      next: gone.scanned === BATCH && gone.deliveries === BATCH ? gone.last : null,
    };
  }
}
