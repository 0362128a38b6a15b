import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

// 'pull': the app has no webhook subscription; GET /{ver}/{app}/events serves it and its cursor acknowledges it.
export type DeliveryStatus = 'pending' | 'in_flight' | 'delivered' | 'failed' | 'pull';

// One event for one app. `seq` orders deliveries per (app, thread): a later one waits for an earlier one.
@Entity('webhook_deliveries')
@Index('webhook_deliveries_app_status_idx', ['appId', 'status', 'seq'])
// A retry batch's members. Every status change rewrites a delivery's entry in each index: an index kept to the rows
// it serves costs the hot path nothing (a delivery acknowledged at its first attempt never enters it).
@Index('webhook_deliveries_retry_batch_idx', ['batchId'], { where: "status = 'pending' AND batch_id IS NOT NULL" })
// Thread-order checks and claims look only at open deliveries: an index on all rows made them walk a thread's or
// app's whole delivered history, under whatever plan the planner picked.
@Index('webhook_deliveries_open_idx', ['appId', 'threadKey', 'seq'], { where: "status IN ('pending', 'in_flight')" })
// What holds a thread back: deliveries in flight, and retry batches waiting. A few per endpoint slot, so the
// claim's busy and held-back sets, and the lapsed-lease sweeps, cost the same at a backlog of 30,000 as at 30.
@Index('webhook_deliveries_held_idx', ['appId', 'threadKey', 'seq'], {
  where: "status = 'in_flight' OR (status = 'pending' AND batch_id IS NOT NULL)",
})
// Deliveries no batch holds, in seq order (a claimed delivery keeps its batch): a claim, a kick and the reconciler
// walk an app's oldest and stop at their limit, whatever plan stale statistics suggest.
@Index('webhook_deliveries_unclaimed_idx', ['appId', 'seq'], { where: "status = 'pending' AND batch_id IS NULL" })
// The retention pruner keeps an event while any delivery of it remains.
@Index('webhook_deliveries_event_idx', ['eventId'])
// The sandbox's poller looks only at pending script deliveries, however many webhook ones are pending.
@Index('webhook_deliveries_script_due_idx', ['nextAttemptAt'], { where: "target = 'script' AND status = 'pending'" })
export class WebhookDeliveryEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'bigint', generated: 'increment' })
  seq: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column({ name: 'app_id', type: 'varchar', length: 20 })
  appId: string;

  @Column({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @Column({ name: 'thread_key', type: 'varchar', length: 64 })
  threadKey: string;

  // 'webhook': POSTed by the delivery worker; 'script': run by the sandbox's script-invocation job.
  @Column({ type: 'varchar', length: 8, default: 'webhook' })
  target: 'webhook' | 'script';

  @Column({ type: 'varchar', length: 12, default: 'pending' })
  status: DeliveryStatus;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  // While in flight: when the claim lapses, the reconciler returns the delivery to pending.
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil: Date | null;

  // The batch this delivery was first sent in: its webhook-id, kept so a retry re-forms the same batch.
  @Column({ name: 'batch_id', type: 'uuid', nullable: true })
  batchId: string | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  // A pull delivery's first serving: only a served one is acknowledged by a cursor past it (a pending one turned
  // into pull when its app dropped its subscription may lie below a cursor it was never served under).
  @Column({ name: 'served_at', type: 'timestamptz', nullable: true })
  servedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
