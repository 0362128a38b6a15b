import { randomUUID } from 'node:crypto';
import { TestDatabase } from './test-database';

// Writes outbox rows as the messaging transaction would, so the delivery worker can be tested on its own.
export async function insertOutboxEvents(
  db: TestDatabase,
  opts: { pageId: string; appId: string; threads: string[]; perThread: number; status?: 'pending' | 'pull' },
): Promise<{ deliveryId: string; threadKey: string; n: number }[]> {
  const rows: { deliveryId: string; threadKey: string; n: number }[] = [];
  const events: unknown[][] = [];
  for (let n = 0; n < opts.perThread; n++) {
    for (const threadKey of opts.threads) {
      const eventId = randomUUID();
      const deliveryId = randomUUID();
      const messaging = {
        sender: { id: threadKey },
        recipient: { id: opts.pageId },
        timestamp: Date.now(),
        message: { mid: `m_${eventId}`, text: `${threadKey}#${n} äöå 👋` },
      };
      events.push([eventId, deliveryId, JSON.stringify(messaging), threadKey]);
      rows.push({ deliveryId, threadKey, n });
    }
  }
  await db.query(
    `WITH e AS (
       INSERT INTO webhook_events (id, page_id, field, messaging)
       SELECT x.event_id, $1, 'messages', x.messaging::jsonb
         FROM unnest($3::uuid[], $5::text[]) AS x(event_id, messaging) RETURNING id)
     INSERT INTO webhook_deliveries (id, event_id, app_id, page_id, thread_key, status)
     SELECT x.delivery_id, x.event_id, $2, $1, x.thread_key, $7
       FROM unnest($3::uuid[], $4::uuid[], $6::varchar[]) WITH ORDINALITY AS x(event_id, delivery_id, thread_key, ord)
      ORDER BY x.ord`,
    [opts.pageId, opts.appId, events.map((e) => e[0]), events.map((e) => e[1]), events.map((e) => e[2]), events.map((e) => e[3]), opts.status ?? 'pending'],
  );
  return rows;
}
