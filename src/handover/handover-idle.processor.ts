import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { ThreadRow } from '../messaging/messaging.service';
import { PageInboxHub } from '../pages/page-inbox-hub';
import { PAGE_INBOX_APP_ID, WebhooksService } from '../webhooks/webhooks.service';
import { controlNotice, HandoverNotice, HandoverService } from './handover.service';

// Threads per transaction: their rows stay locked until it commits, so a message to one of them waits that long.
const BATCH = 100;
// Per tick, so one run never holds a worker for long; the rest waits for the next tick.
const MAX_BATCHES = 20;
// The notices' metadata, so an app can tell an expiry from a pass or take by another app.
export const IDLE_TIMEOUT_METADATA = 'idle_timeout';

type OwnedThread = ThreadRow & { owner_app_id: string; owner_since: string | null };

// Worker-role processes only: every HANDOVER_IDLE_SWEEP_INTERVAL_MS, control of a thread whose owner (an app or the
// Page Inbox) has seen no message and no change of control for HANDOVER_IDLE_TIMEOUT_SECONDS goes back to the
// primary (Messenger: "ownership expires after 24 h of inactivity"). The primary gets pass_thread_control, the
// expired app take_thread_control, both with metadata "idle_timeout" (src/handover/README.md).
// Each batch is one transaction: rows locked with SKIP LOCKED (two workers take disjoint threads; a thread busy with
// a message or a pass is left for the next tick) and re-checked under the lock (a message or pass that committed
// since the scan keeps its owner), the owner cleared and the notices recorded in the outbox (HandoverService.apply),
// dispatched after commit. A message or pass that waits on the lock sees the thread idle, as after a release.
@Injectable()
export class HandoverIdleProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('HandoverIdle');
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly handover: HandoverService,
    private readonly webhooks: WebhooksService,
    private readonly inboxHub: PageInboxHub,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runsWorkers || !this.config.env.HANDOVER_IDLE_TIMEOUT_SECONDS) return;
    this.timer = setInterval(() => void this.tick(), this.config.env.HANDOVER_IDLE_SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  // How many threads went idle.
  async tick(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let expired = 0;
    const timeout = this.config.env.HANDOVER_IDLE_TIMEOUT_SECONDS;
    try {
      for (let i = 0; i < MAX_BATCHES; i++) {
        const cutoff = Date.now() - timeout * 1000;
        const { locked, idle, deliveries } = await this.db.transaction((m) => this.expireBatch(m, cutoff));
        expired += idle.length;
        // The Page's people see the bot has the thread again.
        for (const t of idle) this.inboxHub.touch(t.page_id, t.id);
        // A dispatch lost here (Redis away) is found by the webhook reconciler: the notices are in the outbox.
        if (deliveries.length) {
          await this.webhooks.dispatch(deliveries).catch((err: Error) => this.logger.warn(`dispatch failed: ${err.message}`));
        }
        if (locked < BATCH) break;
      }
      if (expired) this.logger.log(`${expired} threads went idle after ${timeout} s without activity`);
    } catch (err) {
      this.logger.warn(`expiring idle thread control failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
    return expired;
  }

  // Threads last active before `cutoff` (ms): neither a message (last_timestamp) nor a change of control (owner_since)
  // since. The migration that added owner_since started every controlled thread's clock; a null one (written by
  // a process that predates it, during a rolling deploy) counts as 0, so the last message alone decides rather than
  // the thread never expiring.
  // Found through threads_owner_since_idx (controlled threads only); under FOR UPDATE, Postgres re-evaluates the
  // WHERE on a row updated since the statement's snapshot, and the loop below checks it once more.
  private async expireBatch(m: EntityManager, cutoff: number): Promise<{ locked: number; idle: OwnedThread[]; deliveries: string[] }> {
    const rows: OwnedThread[] = await m.query(
      `SELECT t.* FROM threads t
        WHERE t.owner_app_id IS NOT NULL AND (t.owner_since IS NULL OR t.owner_since < $1) AND t.last_timestamp < $1
        LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [cutoff, BATCH],
    );
    const roles = new Map<string, Map<string, 'primary' | 'secondary'>>();
    const deliveries: string[] = [];
    const idle: OwnedThread[] = [];
    for (const t of rows) {
      if (t.owner_app_id === null || Math.max(Number(t.last_timestamp), Number(t.owner_since ?? 0)) >= cutoff) continue;
      if (!roles.has(t.page_id)) roles.set(t.page_id, await this.handover.roles(m, t.page_id));
      deliveries.push(...(await this.handover.apply(m, t, null, expiryNotices(t, roles.get(t.page_id)!))));
      idle.push(t);
    }
    return { locked: rows.length, idle, deliveries };
  }
}

// What an expiry tells, and to whom. Nothing when the owner controlled nothing any more (it lost its role, or is the
// primary itself): the thread was the primary's already, and clearing the owner only tidies up. Nothing either when
// the page has no primary: there is no handover to speak of.
function expiryNotices(t: OwnedThread, roles: Map<string, 'primary' | 'secondary'>): HandoverNotice[] {
  const owner = t.owner_app_id;
  const primary = [...roles].find(([, role]) => role === 'primary')?.[0];
  const controls = owner === PAGE_INBOX_APP_ID || roles.has(owner);
  if (!primary || !controls || owner === primary) return [];
  const base = { sender: { id: t.psid }, recipient: { id: t.page_id }, timestamp: Date.now() };
  const notice = controlNotice(owner, primary, IDLE_TIMEOUT_METADATA);
  const notices: HandoverNotice[] = [{ toApp: primary, item: { ...base, pass_thread_control: notice } }];
  // The app that had it learns its sends are refused from now on; the Page Inbox has people, not a webhook.
  if (owner !== PAGE_INBOX_APP_ID) notices.push({ toApp: owner, item: { ...base, take_thread_control: notice } });
  return notices;
}
