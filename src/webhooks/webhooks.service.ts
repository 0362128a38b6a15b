import { Inject, Injectable } from '@nestjs/common';
import { uuidV7 } from '../common/ids/uuid-v7';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { SqlService } from '../database/sql.service';
import { QUEUE, QueuePort } from '../infra/queue/queue.port';
import { MessengerField } from '../pages/messenger-fields';

export interface PageEventInput {
  pageId: string;
  field: MessengerField;
  // Ordering is kept per (app, thread): the PSID for person-side events.
  threadKey: string;
  // One Messenger messaging item: {sender, recipient, timestamp, message|postback|delivery|read}.
  messaging: Record<string, unknown>;
  // About the Page itself, not a thread (policy enforcement): every subscribed app gets it under its field, never
  // on standby. threadKey is then a key of its own, not a PSID.
  pageLevel?: boolean;
  // Only this app gets it, under its field whoever controls the thread (handover notices).
  toApp?: string;
}

// Messenger's Page Inbox: passing a thread to it hands the conversation to the Page's people; every app then
// gets the thread's events on standby until an app takes it back.
export const PAGE_INBOX_APP_ID = '263902037430900';

// The app controlling a thread under the handover protocol, as a SQL expression: its owner when that is an app
// still connected to the page with a role, or the Page Inbox, else (idle) the page's primary receiver; NULL when the
// page has no primary, i.e. no handover: every app gets every event and may send. `page` and `owner` are SQL
// expressions. PL/pgSQL functions (migration ThreadControllerFunctions): cheap to plan, one probe without a primary.
export const threadControllerSql = (page: string, owner: string) => `thread_controller(${page}, ${owner})`;

const isPostback = (item: Record<string, unknown>) => typeof item.postback === 'object' && item.postback !== null;

// What an app that doesn't control the thread sees of a postback: Messenger strips its payload on standby, and the
// ref link it may carry is the controller's too.
function standbyCopy(item: Record<string, unknown>): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { payload, referral, ...postback } = item.postback as Record<string, unknown>;
  return { ...item, postback };
}

// One entry of a webhook body: the item under `messaging`, or under `standby` for an app that doesn't control
// the thread (handover protocol).
export function webhookEntry(pageId: string, time: number, field: string, item: Record<string, unknown>) {
  return field === 'standby' ? { id: pageId, time, standby: [item] } : { id: pageId, time, messaging: [item] };
}

export const DELIVERY_JOB = 'webhook-delivery' as const;
// Deliveries to hosted apps (target 'script') are run by src/sandbox under this job.
export const SCRIPT_JOB = 'script-invocation' as const;

// BullMQ ignores an add whose id is still present (e.g. the active job re-scheduling itself), so retries get their own id.
export const deliveryJobId = (deliveryId: string, attempt = 0) => (attempt ? `${deliveryId}_${attempt}` : deliveryId);
export const deliveryIdOfJob = (jobId: string) => jobId.split('_')[0];

// A delivery may go now when nothing earlier on its (app, thread) is still outstanding outside its own batch.
export const THREAD_HEAD_SQL = `NOT EXISTS (
  SELECT 1 FROM webhook_deliveries o
   WHERE o.app_id = d.app_id AND o.thread_key = d.thread_key AND o.seq < d.seq
     AND o.status IN ('pending', 'in_flight')
     AND (d.batch_id IS NULL OR o.batch_id IS DISTINCT FROM d.batch_id))`;

// An app the operators suspended gets nothing, not even what waited for it before: kept until it is restored.
export const APP_LIVE_SQL = `NOT EXISTS (SELECT 1 FROM apps sa WHERE sa.id = d.app_id AND sa.suspended_at IS NOT NULL)`;

// Deliveries of apps whose endpoint is paused or whose subscription is off wait, kept, until a resume (of a
// suspended app, until it is restored). `app` is the SQL naming the app's id; `callbackUrl`, a parameter the
// subscription's URL must still equal (a sender's later rounds: a changed URL is posted to from the next batch on).
export const endpointOpenSql = (app: string, callbackUrl?: string) => `EXISTS (
  SELECT 1 FROM app_subscriptions s WHERE s.app_id = ${app} AND s.object = 'page' AND s.active${callbackUrl ? ` AND s.callback_url = ${callbackUrl}` : ''})
  AND NOT EXISTS (SELECT 1 FROM webhook_endpoints ep WHERE ep.app_id = ${app} AND ep.paused_at IS NOT NULL)
  AND ${APP_LIVE_SQL.replaceAll('d.app_id', app)}`;
export const ENDPOINT_OPEN_SQL = endpointOpenSql('d.app_id');

// The outbox: events and their deliveries are rows written with whatever caused them; the queue only carries ids.
@Injectable()
export class WebhooksService {
  // Ids recorded for hosted apps, so dispatch sends them to the sandbox's job. A hint only: ids of a rolled-back
  // transaction are dropped at the bound, and the sandbox's poller finds any script delivery never dispatched.
  private readonly scriptDeliveries = new Set<string>();
  // App of each id recorded here, so dispatch wakes the app once instead of enqueuing a job per event. A hint
  // too: an id without one (reconciler, kick, another process) gets its own job, as before.
  private readonly appOf = new Map<string, string>();

  constructor(
    @Inject(QUEUE) private readonly queue: QueuePort,
    private readonly sql: SqlService,
    private readonly config: AppConfig,
  ) {}

  // Apps with a page subscription get a 'pending' delivery (pushed); connected apps without one get 'pull'
  // (served by GET /{ver}/{app}/events). An inactive subscription (410, paused) still gets 'pending': kept.
  // In the caller's transaction, one statement: the CTEs of pageEventCtes, timestamped by the item itself.
  async recordPageEvent(manager: EntityManager, e: PageEventInput): Promise<string[]> {
    const params: unknown[] = [Number(e.messaging.timestamp ?? Date.now())];
    const ob = this.pageEventCtes(params, e, 'src');
    const [row]: { deliveries: { id: string; status: string; target: string }[] }[] = await manager.query(
      `WITH src AS (SELECT $1::bigint AS timestamp), ${ob.ctes} SELECT ${ob.deliveries} AS deliveries`,
      params,
    );
    return this.recorded(row.deliveries);
  }

  // The outbox as CTEs for a caller's own statement: the event and its deliveries are
  // written in the one round trip that writes their cause, and only when `source` (a CTE yielding one row with a
  // `timestamp` column) yields a row. The event's top-level timestamp is taken from that row. Placeholders are
  // appended to `params`; `deliveries` is a SELECT-list expression answering the rows for `recorded`.
  // `threadOwner`: a SQL expression for the thread's owner_app_id when the caller's own statement has just locked and
  // updated the thread (its RETURNING): a lookup here would read the row as the statement began, before a pass that
  // held the lock committed, and route to the app that no longer controls the thread.
  pageEventCtes(params: unknown[], e: PageEventInput, source: string, threadOwner?: string): { ctes: string; deliveries: string } {
    const $ = (v: unknown) => `$${params.push(v)}`;
    const page = $(e.pageId);
    const field = `${$(e.field)}::varchar`;
    const threadKey = $(e.threadKey);
    const item = $(JSON.stringify(e.messaging));
    const standbyItem = isPostback(e.messaging) ? $(JSON.stringify(standbyCopy(e.messaging))) : item;
    // Handover protocol: on a page with a primary receiver, the thread's controller (a connected app, or the Page
    // Inbox; idle: the primary) gets the event under its field, every other app its standby copy (field
    // `standby`). Pages without a primary skip this (one probe of page_apps) and every app gets the event.
    // An event addressed to one app (a handover notice) goes to it alone, never as standby.
    // Written so it plans cheaply (a statement outside a transaction is planned on every call) and costs a page
    // without a primary one probe of page_apps' partial primary index. MATERIALIZED: inlined, the controller's
    // lookup would run once per use of owner_id.
    const standby = e.toApp || e.pageLevel ? 'false' : `(c.owner_id IS NOT NULL AND c.owner_id <> pa.app_id)`;
    const name = `(CASE WHEN ${standby} THEN 'standby' ELSE ${field} END)`;
    const ctes = `ob_control AS MATERIALIZED (
         SELECT ${threadOwner ? threadControllerSql(page, threadOwner) : `thread_controller_by_psid(${page}, ${threadKey})`} AS owner_id
       ), ob_apps AS (
         SELECT pa.app_id, s.app_id IS NULL AS pull, a.hosted, ${standby} AS standby
           FROM page_apps pa
           JOIN apps a ON a.id = pa.app_id AND a.suspended_at IS NULL
           LEFT JOIN app_subscriptions s ON s.app_id = pa.app_id AND s.object = 'page'
           CROSS JOIN ob_control c
          WHERE pa.page_id = ${page}${e.toApp ? ` AND pa.app_id = ${$(e.toApp)}` : ''}
            AND ${name} = ANY(pa.subscribed_fields)
            AND (s.app_id IS NULL OR s.fields @> jsonb_build_array(jsonb_build_object('name', ${name}::text)))
       ), ob_event AS (
         INSERT INTO webhook_events (id, page_id, field, messaging)
         SELECT CASE WHEN k.standby THEN ${$(uuidV7())}::uuid ELSE ${$(uuidV7())}::uuid END, ${page},
                CASE WHEN k.standby THEN 'standby' ELSE ${field} END,
                jsonb_set(CASE WHEN k.standby THEN ${standbyItem}::jsonb ELSE ${item}::jsonb END, '{timestamp}', to_jsonb(src.timestamp))
           FROM ${source} src CROSS JOIN (SELECT DISTINCT standby FROM ob_apps) k
         RETURNING id, field = 'standby' AS standby
       ), ob_deliveries AS (
         INSERT INTO webhook_deliveries (id, event_id, app_id, page_id, thread_key, status, target)
         SELECT gen_random_uuid(), ev.id, a.app_id, ${page}, ${threadKey},
                CASE WHEN a.pull THEN 'pull' ELSE 'pending' END, CASE WHEN a.hosted THEN 'script' ELSE 'webhook' END
           FROM ob_event ev JOIN ob_apps a ON a.standby = ev.standby
         RETURNING id, status, target, app_id
       )`;
    const deliveries = `(SELECT COALESCE(json_agg(json_build_object('id', d.id, 'status', d.status, 'target', d.target, 'app_id', d.app_id)), '[]'::json)
                          FROM ob_deliveries d)`;
    return { ctes, deliveries };
  }

  // A Page disconnected the app: what was never delivered (pending, in flight, failed, or waiting to be pulled) is forgotten
  // with its attempts and events, in the disconnect's transaction, so the app gets none of it, not even through its
  // delivery log or a replay. Delivered history stays (the app had it). A POST already on the wire can't be
  // recalled, but its settle then finds no claim to write to (nor a delivery to attach an attempt to), so it is
  // never sent again. Returns how many went.
  async forgetUndelivered(m: EntityManager, appId: string, pageId: string): Promise<number> {
    // The caller has deleted the connection. An event statement that read it before that (it takes no lock on it:
    // a row lock there would cost every message append) may still be about to commit deliveries for the app. This
    // waits for every transaction writing deliveries to end and holds new ones back until the disconnect commits,
    // when they no longer see the connection. SHARE ROW EXCLUSIVE conflicts with itself, so two disconnects take
    // turns instead of deadlocking. Writers queue behind the request while it waits, so the wait is cut short
    // (200 ms, e.g. behind a vacuum or a long pruner batch) and the caller tries again later: outbox writes pause
    // for at most that long.
    await m.query(`SET LOCAL lock_timeout = '200ms'`);
    await m.query(`LOCK TABLE webhook_deliveries IN SHARE ROW EXCLUSIVE MODE`);
    const [{ n }]: { n: number }[] = await m.query(
      `WITH gone AS (
         DELETE FROM webhook_deliveries
          WHERE app_id = $1 AND page_id = $2 AND status IN ('pending', 'in_flight', 'failed', 'pull')
         RETURNING id, event_id),
       attempts AS (DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM gone)),
       events AS (
         DELETE FROM webhook_events e WHERE e.id IN (SELECT event_id FROM gone)
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o
                             WHERE o.event_id = e.id
                               AND NOT (o.app_id = $1 AND o.page_id = $2 AND o.status IN ('pending', 'in_flight', 'failed', 'pull'))))
       SELECT count(*)::int AS n FROM gone`,
      [appId, pageId],
    );
    return n;
  }

  // What pageEventCtes wrote: the ids to dispatch after commit (pull deliveries wait to be fetched).
  recorded(rows: { id: string; status: string; target: string; app_id?: string }[]): string[] {
    if (rows.some((r) => r.target === 'script')) {
      if (this.scriptDeliveries.size > 10_000) this.scriptDeliveries.clear();
      for (const r of rows) if (r.target === 'script') this.scriptDeliveries.add(r.id);
    }
    if (this.appOf.size > 10_000) this.appOf.clear();
    for (const r of rows) if (r.target === 'webhook' && r.status === 'pending' && r.app_id) this.appOf.set(r.id, r.app_id);
    return rows.filter((r) => r.status !== 'pull').map((r) => r.id);
  }

  // After commit. New events wake their app (one coalescing trigger per app: a busy sender claims them in its
  // next round anyway); other ids get a job each. A delivery the queue never hears of (crash, Redis flush) is
  // found by the reconciler.
  async dispatch(deliveryIds: string[]): Promise<void> {
    const apps = new Set<string>();
    const jobs: Promise<void>[] = [];
    for (const id of deliveryIds) {
      const app = this.appOf.get(id);
      if (app !== undefined) {
        this.appOf.delete(id);
        apps.add(app);
      } else if (this.scriptDeliveries.delete(id)) jobs.push(this.queue.add(SCRIPT_JOB, { deliveryId: id }, { jobId: id }));
      else jobs.push(this.queue.add(DELIVERY_JOB, { deliveryId: id }, { jobId: deliveryJobId(id) }));
    }
    for (const appId of apps) jobs.push(this.wake(appId));
    await Promise.all(jobs);
  }

  // A trigger for the app: a sender that forms a fresh batch from its oldest due deliveries.
  wake(appId: string): Promise<void> {
    return this.queue.trigger(DELIVERY_JOB, `app-${appId}`, { appId });
  }

  // Wakes an app's backlog: up to `slots` jobs, each of which forms a batch from the app's oldest due deliveries
  // (a retry batch re-forms itself). Jobs are only triggers; the claim decides what goes.
  async kick(appId: string, slots = this.config.env.WEBHOOK_ENDPOINT_MAX_IN_FLIGHT): Promise<void> {
    // Retry batches (their oldest member stands for each) from the held index, fresh deliveries from the
    // unclaimed one: a kick reads what it wakes, not the app's whole backlog.
    const rows = await this.sql.query<{ id: string; batch_id: string | null }>(
      `(SELECT DISTINCT ON (d.batch_id) d.id, d.batch_id FROM webhook_deliveries d
         WHERE d.app_id = $1 AND d.status = 'pending' AND d.batch_id IS NOT NULL AND d.next_attempt_at <= now()
           AND d.target = 'webhook'
         ORDER BY d.batch_id, d.seq LIMIT $2)
       UNION ALL
       (SELECT d.id, d.batch_id FROM webhook_deliveries d
         WHERE d.app_id = $1 AND d.status = 'pending' AND d.batch_id IS NULL
           AND d.target = 'webhook'
         ORDER BY d.seq LIMIT $2)`,
      [appId, Math.max(1, slots)],
    );
    const retries = rows.filter((r) => r.batch_id).map((r) => r.id);
    const fresh = rows.filter((r) => !r.batch_id).map((r) => r.id);
    await this.dispatch([...retries, ...fresh].slice(0, Math.max(1, slots)));
  }
}
