import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { QUEUE, QueuePort } from '../infra/queue/queue.port';
import { MessengerField } from '../pages/messenger-fields';

export interface PageEventInput {
  pageId: string;
  field: MessengerField;
  // Ordering is kept per (app, thread): the PSID for person-side events.
  threadKey: string;
  // One Messenger messaging item: {sender, recipient, timestamp, message|postback|delivery|read}.
  messaging: Record<string, unknown>;
}

export const DELIVERY_JOB = 'webhook-delivery' as const;
// Deliveries to hosted apps (target 'script') are run by src/sandbox under this job.
export const SCRIPT_JOB = 'script-invocation' as const;

// BullMQ ignores an add whose id is still present (e.g. the active job re-scheduling itself), so retries get their own id.
export const deliveryJobId = (deliveryId: string, attempt = 0) => (attempt ? `${deliveryId}_${attempt}` : deliveryId);
export const deliveryIdOfJob = (jobId: string) => jobId.split('_')[0];

// The outbox: events and their deliveries are rows written with whatever caused them; the queue only carries ids.
@Injectable()
export class WebhooksService {
  // Ids recorded for hosted apps, so dispatch sends them to the sandbox's job. A hint only: ids of a rolled-back
  // transaction are dropped at the bound, and the sandbox's poller finds any script delivery never dispatched.
  private readonly scriptDeliveries = new Set<string>();

  constructor(@Inject(QUEUE) private readonly queue: QueuePort) {}

  async recordPageEvent(manager: EntityManager, e: PageEventInput): Promise<string[]> {
    const apps: { app_id: string; hosted: boolean }[] = await manager.query(
      `SELECT pa.app_id, a.hosted
         FROM page_apps pa
         JOIN app_subscriptions s ON s.app_id = pa.app_id AND s.object = 'page' AND s.active
         JOIN apps a ON a.id = pa.app_id AND a.suspended_at IS NULL
        WHERE pa.page_id = $1
          AND $2 = ANY(pa.subscribed_fields)
          AND s.fields @> jsonb_build_array(jsonb_build_object('name', $2::text))
        ORDER BY pa.app_id`,
      [e.pageId, e.field],
    );
    if (!apps.length) return [];
    const eventId = randomUUID();
    await manager.query(
      `INSERT INTO webhook_events (id, page_id, field, messaging) VALUES ($1, $2, $3, $4)`,
      [eventId, e.pageId, e.field, JSON.stringify(e.messaging)],
    );
    const ids = apps.map(() => randomUUID());
    await manager.query(
      `INSERT INTO webhook_deliveries (id, event_id, app_id, page_id, thread_key, target)
       SELECT d.id, $1, d.app_id, $2, $3, d.target
         FROM unnest($4::uuid[], $5::varchar[], $6::varchar[]) WITH ORDINALITY AS d(id, app_id, target, n) ORDER BY n`,
      [eventId, e.pageId, e.threadKey, ids, apps.map((a) => a.app_id), apps.map((a) => (a.hosted ? 'script' : 'webhook'))],
    );
    if (apps.some((a) => a.hosted)) {
      if (this.scriptDeliveries.size > 10_000) this.scriptDeliveries.clear();
      apps.forEach((a, i) => a.hosted && this.scriptDeliveries.add(ids[i]));
    }
    return ids;
  }

  // After commit. A delivery the queue never hears of (crash, Redis flush) is found by the reconciler.
  async dispatch(deliveryIds: string[]): Promise<void> {
    await Promise.all(
      deliveryIds.map((id) =>
        this.scriptDeliveries.delete(id)
          ? this.queue.add(SCRIPT_JOB, { deliveryId: id }, { jobId: id })
          : this.queue.add(DELIVERY_JOB, { deliveryId: id }, { jobId: deliveryJobId(id) }),
      ),
    );
  }
}
