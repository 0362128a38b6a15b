import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

// A person's report of a conversation with a Page (Messenger's "Report"), for the operators. It names what was
// reported (the thread and its last seq at the time), never copies the messages. The Page never sees it.
@Entity('page_reports')
// One open report per thread: reporting again while it is open updates it. The backstop for two reports at once
// (both also take the thread's row lock first).
@Index('page_reports_open_thread_uq', ['threadId'], { unique: true, where: "status = 'open'" })
// The operators' list, newest first, by status (GET /admin/reports?status=).
@Index('page_reports_status_idx', ['status', 'createdAt', 'id'])
// The same for one Page (…&page_id=), and each Page's open count (GET /admin/pages).
@Index('page_reports_page_status_idx', ['pageId', 'status', 'createdAt', 'id'])
export class PageReportEntity {
  @PrimaryColumn({ type: 'varchar', length: 20 })
  id: string;

  @Column({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @Column({ name: 'thread_id', type: 'varchar', length: 20 })
  threadId: string;

  // The person who reported (an account id): the thread's own person.
  @Column({ name: 'reporter_user_id', type: 'varchar', length: 20 })
  reporterUserId: string;

  // spam | scam | inappropriate | harassment | other (REPORT_REASONS).
  @Column({ type: 'varchar', length: 16 })
  reason: string;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  details: string | null;

  // The thread's last seq when reported (again: when last reported): the operators read the messages up to it.
  @Column({ name: 'reported_seq', type: 'bigint' })
  reportedSeq: string;

  // open | resolved (warned or suspended) | dismissed.
  @Column({ type: 'varchar', length: 16, default: 'open' })
  status: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  // When the person last reported it (a second report while open updates the first).
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt: Date | null;

  // What the operator did: dismiss | warn | suspend.
  @Column({ type: 'varchar', length: 16, nullable: true })
  resolution: string | null;

  @Column({ name: 'resolution_note', type: 'varchar', length: 1000, nullable: true })
  resolutionNote: string | null;

  // Who resolved it, as the operator named themself (the admin token names nobody); 'admin' when they didn't.
  @Column({ name: 'resolved_by', type: 'varchar', length: 80, nullable: true })
  resolvedBy: string | null;
}
