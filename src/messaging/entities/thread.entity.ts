import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

// A conversation between one person and one Page. The PSID is how the Page's bots know the person.
@Entity('threads')
@Unique('threads_page_user_uq', ['pageId', 'userId'])
@Unique('threads_page_psid_uq', ['pageId', 'psid'])
// GET /threads sorts a person's few threads.
@Index('threads_user_idx', ['userId'])
// A Page's threads newest activity first (the Page Inbox, Graph's conversations), one index per folder and one per
// folder by assignee, on the minute of the last activity (activity_minute), not its ms: a message rewrites that
// only when the minute turns, so its thread update stays HOT (no index entry) in the common case. A page of the list
// reads the index in minute order and sorts each minute's few threads (Incremental Sort). Partial on
// activity_minute IS NOT NULL (a message exists) rather than last_seq > 0, which every message changes. An assignee
// filter also orders by that column (one value in the scan).
@Index('threads_page_inbox_idx', ['pageId', 'activityMinute'], { where: 'activity_minute IS NOT NULL AND page_done_seq IS NULL' })
@Index('threads_page_done_idx', ['pageId', 'activityMinute'], { where: 'activity_minute IS NOT NULL AND page_done_seq IS NOT NULL' })
@Index('threads_page_inbox_assignee_idx', ['pageId', 'assigneeUserId', 'activityMinute'], {
  where: 'activity_minute IS NOT NULL AND page_done_seq IS NULL',
})
@Index('threads_page_done_assignee_idx', ['pageId', 'assigneeUserId', 'activityMinute'], {
  where: 'activity_minute IS NOT NULL AND page_done_seq IS NOT NULL',
})
// Handover idle timeout: the sweep (HandoverIdleProcessor) finds controlled threads here. Partial, so idle threads
// (most) are not in it, and on owner_since (only written when control changes), so a message's update stays HOT.
@Index('threads_owner_since_idx', ['ownerSince'], { where: 'owner_app_id IS NOT NULL' })
export class ThreadEntity {
  @PrimaryColumn({ type: 'varchar', length: 20 })
  id: string;

  @Column({ name: 'page_id', type: 'varchar', length: 20 })
  pageId: string;

  @Column({ name: 'user_id', type: 'varchar', length: 20 })
  userId: string;

  @Column({ type: 'varchar', length: 20 })
  psid: string;

  // Allocated by `UPDATE … SET last_seq = last_seq + 1 RETURNING` inside the message's transaction: gap-free.
  @Column({ name: 'last_seq', type: 'bigint', default: 0 })
  lastSeq: string;

  // Timestamp (ms) of the last message; each new one takes max(now, this) so timestamps never go back in a thread.
  @Column({ name: 'last_timestamp', type: 'bigint', default: 0 })
  lastTimestamp: string;

  // last_timestamp / 60000 (whole minutes), set by the same update; null until the first message. What the list's
  // indexes hold in place of last_timestamp (see above).
  @Column({ name: 'activity_minute', type: 'bigint', nullable: true })
  activityMinute: string | null;

  // Timestamp (ms) of the person's last message or postback: the Send API's messaging window starts here.
  @Column({ name: 'person_last_at', type: 'bigint', default: 0 })
  personLastAt: string;

  // What the person has read / acknowledged (watermark in ms, and the seq it covers).
  @Column({ name: 'person_read_seq', type: 'bigint', default: 0 })
  personReadSeq: string;

  @Column({ name: 'person_read_watermark', type: 'bigint', default: 0 })
  personReadWatermark: string;

  @Column({ name: 'person_delivered_watermark', type: 'bigint', default: 0 })
  personDeliveredWatermark: string;

  // What the Page has seen (a bot's mark_seen).
  @Column({ name: 'page_read_seq', type: 'bigint', default: 0 })
  pageReadSeq: string;

  @Column({ name: 'page_read_watermark', type: 'bigint', default: 0 })
  pageReadWatermark: string;

  // What the Page's bots have received (the person's "Delivered"): the highest seq and its timestamp.
  @Column({ name: 'page_delivered_seq', type: 'bigint', default: 0 })
  pageDeliveredSeq: string;

  @Column({ name: 'page_delivered_watermark', type: 'bigint', default: 0 })
  pageDeliveredWatermark: string;

  // Handover protocol: the app that controls the thread, or Messenger's Page Inbox id (a human has it). Null:
  // idle, and the page's primary receiver has it.
  @Column({ name: 'owner_app_id', type: 'varchar', length: 20, nullable: true })
  ownerAppId: string | null;

  // When control last changed (ms): with last_timestamp, how long the owner has been inactive. Null on threads
  // whose control last changed before this column existed.
  @Column({ name: 'owner_since', type: 'bigint', nullable: true })
  ownerSince: string | null;

  // The Page Inbox (src/inbox): the thread's last seq when the Page's people marked the conversation done; null
  // when it is not. The person's next message clears it in the message's own thread update, so it comes back by
  // itself (no clock to compare). Graph's conversations folder `page_done`.
  @Column({ name: 'page_done_seq', type: 'bigint', nullable: true })
  pageDoneSeq: string | null;

  // The Page Inbox: the Page's admin the conversation is assigned to (an account id), or null.
  @Column({ name: 'assignee_user_id', type: 'varchar', length: 20, nullable: true })
  assigneeUserId: string | null;

  // An m.me-style ref the person opened the thread with before its first message: the first message or postback
  // carries it as `referral` (Messenger's new-thread referral), then it is cleared.
  @Column({ name: 'pending_ref', type: 'varchar', length: 250, nullable: true })
  pendingRef: string | null;

  // When the person blocked messages from the Page (ms); null: not blocked. While set, nothing the Page sends reaches
  // them: the message statement itself refuses (appendMessage), so checking it costs the Send API no round trip.
  @Column({ name: 'blocked_at', type: 'bigint', nullable: true })
  blockedAt: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
