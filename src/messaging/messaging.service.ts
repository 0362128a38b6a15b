import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isDeepStrictEqual } from 'node:util';
import { checkFeedbackAnswers, GET_STARTED_TITLE } from '../../libs/templates';
import type { FeedbackAnswer, MessageContent } from '../../libs/templates';
import { numericId } from '../common/crypto/tokens';
import { AppException, notFound } from '../common/errors/app.exception';
import { AppConfig } from '../config/app-config';
import { isUniqueViolation } from '../database/pg-errors';
import { containsPattern } from '../database/like-pattern';
import { rowsOf } from '../database/query-rows';
import { SqlQuery, SqlService } from '../database/sql.service';
import { RATE_LIMITER, RateLimiterPort } from '../infra/rate-limit/rate-limiter.port';
import { MediaService } from '../media/media.service';
import { PagesService } from '../pages/pages.service';
import { MessengerField } from '../pages/messenger-fields';
import { DeliveryReceipts, ReceivedMessage } from '../webhooks/delivery-receipts';
import { PAGE_INBOX_APP_ID, PageEventInput, threadControllerSql, WebhooksService } from '../webhooks/webhooks.service';
import { MessagingErrors } from './messaging.errors';
import {
  accountLinkingItem,
  AttachmentPresenter,
  couponOf,
  couponRevealItem,
  deliveryItem,
  echoItem,
  editItem,
  feedbackItem,
  feedbackRequestOf,
  feedbackView,
  MessageRow,
  StoredFeedback,
  newMid,
  newPsid,
  personMessageItem,
  presentPersona,
  reactionItem,
  readItem,
  referralItem,
  ResponseFeedback,
  responseFeedbackItem,
  toMessageView,
} from './messaging-items';
import type { MessageView, PersonEvent, StoredEvent, TypingEvent } from './person-events';
import { RealtimeHub } from './realtime/realtime-hub';

export interface ThreadRow {
  id: string;
  page_id: string;
  user_id: string;
  psid: string;
  last_seq: string;
  last_timestamp: string;
  person_last_at: string;
  person_read_seq: string;
  person_read_watermark: string;
  person_delivered_watermark: string;
  page_read_seq: string;
  page_read_watermark: string;
  page_delivered_seq: string;
  page_delivered_watermark: string;
  created_at: Date;
  // ms; null: the person has not blocked messages from the Page.
  blocked_at: string | null;
  // Only where the query joined pages.
  page_suspended_at?: Date | null;
  owner_app_id?: string | null;
  page_done_seq?: string | null;
  assignee_user_id?: string | null;
  // Only from findThreadByPsid: the app controlling the thread (handover protocol); null when the page has none.
  controller?: string | null;
}

// Newest activity first; equal times by creation, then id. `leading` columns go first: for the Page's list, its
// index's columns (ThreadEntity: an assignee, one value in the scan, and activity_minute, which orders as
// last_timestamp does), so a scan of the index gives the order up to each minute's few threads, which Postgres sorts
// as it goes (Incremental Sort) and stops at the page.
const activityOrder = (t = 't.', leading: string[] = []) =>
  [...leading, 'last_timestamp', 'created_at', 'id'].map((c) => `${t}${c} DESC`).join(', ');
const ACTIVITY_MINUTE_MS = 60_000;

// One list statement's parameters, numbered as they are added.
class ListQuery {
  constructor(readonly params: unknown[]) {}

  param(value: unknown): string {
    return `$${this.params.push(value)}`;
  }

  // One row more than the page: whether another page follows.
  limit(n: number): string {
    return `${this.param(n + 1)}::int`;
  }

  // The rows after a cursor: a page's last row as `last_timestamp.created_at in µs.id` (next_cursor; callers check
  // its shape). created_at is compared as the timestamp itself; µs are exact both ways. `byMinute`: also bound
  // activity_minute by the cursor's minute, the condition the Page list's index scan starts from.
  after(cursor: string, byMinute = false): string {
    const [ts, us, id] = cursor.split('.');
    const n = this.param(ts);
    return `${byMinute ? `t.activity_minute <= ${n}::bigint / ${ACTIVITY_MINUTE_MS} AND ` : ''}(t.last_timestamp, t.created_at, t.id) < (${n}::bigint,
      'epoch'::timestamptz + ${this.param(us)}::bigint * interval '1 microsecond', ${this.param(id)}::varchar)`;
  }
}

export interface PageThreadFilter {
  psid?: string;
  threadId?: string;
  done?: boolean;
  // An admin's account id; '': nobody's.
  assignee?: string;
  // Part of the person's name, any case.
  nameContains?: string;
}
interface PageThreadExtra extends ControlRow {
  person_name: string;
  done: boolean;
  assignee_name: string | null;
}
type PageThreadRow = ThreadRow & PageThreadExtra & { unread_count: number; last_message: MessageRow | null };

// Who controls a thread (handover protocol), as the Page's own people see it: `handover` false when the Page has no
// primary receiver (no handover: anyone may send).
export interface ControlRow {
  handover: boolean;
  controller: string | null;
  controller_name: string | null;
}

const CONTROL_COLUMNS = `EXISTS (SELECT 1 FROM page_apps pa WHERE pa.page_id = t.page_id AND pa.handover_role = 'primary') AS handover,
                ${threadControllerSql('t.page_id', 't.owner_app_id')} AS controller,
                (SELECT a.name FROM apps a WHERE a.id = ${threadControllerSql('t.page_id', 't.owner_app_id')}) AS controller_name`;

export function controlView(r: ControlRow) {
  const controller = r.handover ? r.controller : null;
  return {
    handover: r.handover,
    controller_app_id: controller,
    controller_name: controller === PAGE_INBOX_APP_ID ? 'Page Inbox' : controller ? r.controller_name : null,
    // Without handover the Page's people may always send.
    inbox_has_control: !r.handover || controller === PAGE_INBOX_APP_ID,
  };
}

export interface PageSendOptions {
  // Runs in the message's transaction after the insert (the Send API stores its Idempotency-Key there); if it
  // throws, nothing is written and nothing is sent. Without it the message is one statement, no transaction.
  within?: (m: EntityManager, sent: { mid: string; seq: number }) => Promise<void>;
  // Write only if the person's last message is at least this recent (ms; the messaging window, checked by the
  // statement itself, so the caller needs no thread lookup); else nothing is written (PAGE.NOT_FOUND).
  personLastAtFrom?: number | null;
  // A retry with the same id writes nothing (PAGE.NOT_FOUND; the caller finds the first).
  clientMessageId?: string | null;
}

// What never changes about a thread: safe to cache.
export type ThreadFacts = Pick<ThreadRow, 'id' | 'page_id' | 'user_id' | 'psid'>;

const THREAD_FACTS_MAX = 50_000;

// How far back a postback button in the thread still counts as offered: the Page's latest messages.
const OFFERING_MESSAGES = 100;

// What an email or phone chip's value must look like (the person types or picks it; the bot trusts its kind).
const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/;
const isPhoneNumber = (v: string) => /^\+?[\d\s().-]{4,24}$/.test(v) && (v.match(/\d/g)?.length ?? 0) >= 5 && (v.match(/\d/g)?.length ?? 0) <= 15;

// The highest person message each thread's bot now has, one "delivery by page" event per thread whose mark
// moved. The mids are found by primary key (`= ANY`: an index scan under a generic plan too, however long the
// Page's history). Each person's cursor is bumped once by their count of events (an ON CONFLICT row can't be
// updated twice in one statement).
const PAGE_RECEIVED_SQL = `WITH hit AS (
    SELECT m.thread_id, max(m.seq) AS seq, max(m.timestamp) AS watermark
      FROM messages m JOIN threads h ON h.id = m.thread_id
     WHERE m.mid = ANY($1::varchar[]) AND m.sender = 'person' AND h.page_id = ANY($2::varchar[])
     GROUP BY m.thread_id
  ), moved AS (
    UPDATE threads t
       SET page_delivered_seq = hit.seq, page_delivered_watermark = GREATEST(t.page_delivered_watermark, hit.watermark)
      FROM hit
     WHERE t.id = hit.thread_id AND t.page_delivered_seq < hit.seq
    RETURNING t.id, t.user_id, t.page_id, t.page_delivered_seq, t.page_delivered_watermark
  ), n AS (
    SELECT moved.*, row_number() OVER (PARTITION BY user_id ORDER BY id) AS k, count(*) OVER (PARTITION BY user_id) AS cnt
      FROM moved
  ), c AS (
    INSERT INTO user_event_cursors (user_id, last_cursor)
    SELECT user_id, max(cnt) FROM n GROUP BY user_id ORDER BY user_id
    ON CONFLICT (user_id) DO UPDATE SET last_cursor = user_event_cursors.last_cursor + EXCLUDED.last_cursor
    RETURNING user_id, last_cursor
  ), ev AS (
    INSERT INTO user_events (user_id, cursor, type, payload)
    SELECT n.user_id, c.last_cursor - n.cnt + n.k, 'delivery',
           jsonb_build_object('type', 'delivery', 'by', 'page', 'thread_id', n.id, 'page_id', n.page_id,
                              'seq', n.page_delivered_seq, 'watermark', n.page_delivered_watermark)
      FROM n JOIN c USING (user_id)
    RETURNING user_id, cursor, payload
  )
  SELECT user_id, cursor, payload FROM ev ORDER BY cursor`;

export interface SentMessage {
  mid: string;
  seq: number;
  timestamp: number;
  // false when a retry with the same client_message_id found the first message.
  created: boolean;
}

interface Outcome<T> {
  result: T;
  events: PersonEvent[];
  deliveries: string[];
}

const THUMBS_APPS_TTL_MS = 5_000;
const THUMBS_APPS_CACHE_MAX = 10_000;
const MESSAGE_COLUMNS =
  'mid, seq, sender, app_id, kind, timestamp, content, client_message_id, reactions, num_edit, coupon_revealed_at, feedback, response_feedback';

// Messenger's limits on a person's edits.
const MAX_EDITS = 5;
const EDIT_WINDOW_MS = 15 * 60_000;

// Threads, PSIDs, messages and receipts. Every change is one transaction that writes the rows, the person's
// events and the webhook outbox together; pub/sub and the queue are told after it commits.
@Injectable()
export class MessagingService implements OnModuleInit {
  private readonly logger = new Logger('Messaging');
  private readonly threadFacts = new Map<string, ThreadFacts>();
  private readonly thumbsAppsCache = new Map<string, { apps: ReadonlySet<string>; until: number }>();
  // `${page_id}:${psid}` → thread id, for the threads in threadFacts.
  private readonly threadByPsid = new Map<string, string>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly sql: SqlService,
    private readonly pages: PagesService,
    private readonly webhooks: WebhooksService,
    private readonly hub: RealtimeHub,
    private readonly config: AppConfig,
    private readonly media: MediaService,
    private readonly receipts: DeliveryReceipts,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiterPort,
  ) {}

  onModuleInit(): void {
    this.receipts.onReceived((received) => this.pageReceived(received));
    this.hub.useCursorHeads((userIds) => this.cursorHeads(userIds));
  }

  // Each person's last stored cursor (absent: none yet).
  private async cursorHeads(userIds: string[]): Promise<Map<string, number>> {
    const rows = await this.sql.query<{ user_id: string; last_cursor: string }>(
      `SELECT user_id, last_cursor FROM user_event_cursors WHERE user_id = ANY($1::varchar[])`,
      [userIds],
    );
    return new Map(rows.map((r) => [r.user_id, Number(r.last_cursor)]));
  }

  // --- threads ---

  // With `ref` (a ref link), the person's send bucket is spent first, so a refusal (429) creates nothing.
  async getOrCreateThread(userId: string, pageId: string, ref?: string): Promise<{ thread: ThreadRow; created: boolean }> {
    await this.pages.findActive(pageId);
    if (ref === undefined) return this.threadOf(userId, pageId);
    await this.spendPersonSend(userId);
    const opened = await this.threadOf(userId, pageId);
    // A thread whose Page the person blocked opens for reading; the Page is not told where they came from.
    if (opened.thread.blocked_at == null) await this.openedWithRef(opened.thread, ref);
    return opened;
  }

  private async threadOf(userId: string, pageId: string): Promise<{ thread: ThreadRow; created: boolean }> {
    const existing = await this.findThreadOfUser(userId, pageId);
    if (existing) return { thread: existing, created: false };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const rows: ThreadRow[] = await this.db.query(
          `INSERT INTO threads (id, page_id, user_id, psid) VALUES ($1, $2, $3, $4) RETURNING *`,
          [numericId(), pageId, userId, newPsid()],
        );
        return { thread: rows[0], created: true };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // Either the same person raced us (the thread now exists) or a PSID collided (try another).
        const raced = await this.findThreadOfUser(userId, pageId);
        if (raced) return { thread: raced, created: false };
      }
    }
    throw new Error('could not allocate a PSID');
  }

  private async findThreadOfUser(userId: string, pageId: string): Promise<ThreadRow | undefined> {
    const rows: ThreadRow[] = await this.db.query(`SELECT * FROM threads WHERE user_id = $1 AND page_id = $2`, [userId, pageId]);
    return rows[0];
  }

  // A person only ever sees their own threads; anyone else's is "not found".
  async findOwnThread(userId: string, threadId: string): Promise<ThreadRow> {
    const rows: ThreadRow[] = /^\d{1,20}$/.test(threadId)
      ? await this.sql.query(
          `SELECT t.*, p.suspended_at AS page_suspended_at FROM threads t JOIN pages p ON p.id = t.page_id
            WHERE t.id = $1 AND t.user_id = $2`,
          [threadId, userId],
        )
      : [];
    if (!rows[0]) throw MessagingErrors.threadNotFound(threadId);
    return rows[0];
  }

  async findThreadByPsid(pageId: string, psid: string): Promise<ThreadRow | undefined> {
    if (!/^\d{1,20}$/.test(psid)) return undefined;
    // With the app controlling it (handover protocol), which costs a probe of the page's apps, not a round trip.
    const rows = await this.sql.query<ThreadRow>(
      `SELECT t.*, ${threadControllerSql('t.page_id', 't.owner_app_id')} AS controller FROM threads t WHERE t.page_id = $1 AND t.psid = $2`,
      [pageId, psid],
    );
    if (rows[0]) this.rememberFacts(rows[0]);
    return rows[0];
  }

  // The facts of a thread this process has looked up or written to (the Send API's lookup-free path); a caller
  // whose write then finds nothing calls forgetThread and takes the full path.
  knownThreadByPsid(pageId: string, psid: string): ThreadFacts | undefined {
    const id = this.threadByPsid.get(`${pageId}:${psid}`);
    return id === undefined ? undefined : this.threadFacts.get(id);
  }

  forgetThread(t: ThreadFacts): void {
    this.threadFacts.delete(t.id);
    this.threadByPsid.delete(`${t.page_id}:${t.psid}`);
  }

  // Newest activity first, a page at a time: `cursor` is the previous page's next_cursor (its last thread's
  // position, so threads that move meanwhile are neither skipped nor repeated within what has not moved).
  async listThreads(userId: string, limit = 50, cursor?: string) {
    const q = new ListQuery([userId]);
    const where = ['t.user_id = $1', ...(cursor ? [q.after(cursor)] : [])];
    const { rows, nextCursor } = await this.threadsByActivity<{ page_name: string }>(
      '(SELECT p.name FROM pages p WHERE p.id = t.page_id) AS page_name',
      `SELECT t.* FROM threads t WHERE ${where.join(' AND ')} ORDER BY ${activityOrder()} LIMIT ${q.limit(limit)}`,
      q.params, 'page', 'person_read_seq', limit,
    );
    return {
      data: rows.map((r) => ({
        ...this.threadView(r),
        page: { id: r.page_id, name: r.page_name },
        unread_count: r.unread_count,
        last_message: r.last_message ? toMessageView(r.last_message, (a) => this.media.forPerson(a)) : null,
      })),
      paging: { next_cursor: nextCursor },
    };
  }

  // One page of threads by newest activity (listThreads' cursor), each with its last message and the messages of
  // `unreadFrom` after the reader's `readSeq`. `threads` selects the page's rows (at most limit + 1, in
  // activityOrder, as `t`); what each row adds is a scalar subquery, so it runs for those rows only. Planned with
  // each call's values (not a named statement): a generic plan, not knowing the limit, costs a tenth of the Page's
  // threads, which is past JIT's threshold (half a second of compiling on every read).
  private async threadsByActivity<R>(
    select: string,
    threads: string,
    params: unknown[],
    unreadFrom: 'person' | 'page',
    readSeq: 'person_read_seq' | 'page_read_seq',
    limit: number,
  ) {
    const rows: (ThreadRow & R & { unread_count: number; last_message: MessageRow | null; created_us: string })[] = await this.db.query(
      `SELECT t.*, ${select}, (extract(epoch FROM t.created_at) * 1000000)::bigint AS created_us,
              (SELECT count(*)::int FROM messages m
                WHERE m.thread_id = t.id AND m.sender = '${unreadFrom}' AND m.seq > t.${readSeq}) AS unread_count,
              (SELECT row_to_json(l) FROM (
                 SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.thread_id = t.id ORDER BY m.seq DESC LIMIT 1) l
              ) AS last_message
         FROM (${threads}) t
        ORDER BY ${activityOrder()}`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { rows: page, nextCursor: rows.length > limit ? `${last.last_timestamp}.${last.created_us}.${last.id}` : null };
  }

  threadView(t: ThreadRow) {
    return {
      id: t.id,
      page_id: t.page_id,
      last_seq: Number(t.last_seq),
      read_watermark: Number(t.person_read_watermark),
      delivered_watermark: Number(t.person_delivered_watermark),
      seen_by_page_watermark: Number(t.page_read_watermark),
      seen_by_page_seq: Number(t.page_read_seq),
      delivered_to_page_watermark: Number(t.page_delivered_watermark),
      delivered_to_page_seq: Number(t.page_delivered_seq),
      blocked: t.blocked_at != null,
      blocked_at: t.blocked_at == null ? null : Number(t.blocked_at),
      created_at: new Date(t.created_at).toISOString(),
    };
  }

  async listMessages(userId: string, threadId: string, afterSeq: number, limit: number, origin?: string) {
    return this.messagesOf(await this.findOwnThread(userId, threadId), afterSeq, limit, origin);
  }

  // --- the Page's own people (src/inbox): a Page's threads as its admins see them ---

  // Threads with at least one message, newest activity first (the same cursor as listThreads), with the person's
  // name, what the Page has not read, and who controls each (handover protocol).
  async listPageThreads(pageId: string, limit = 50, cursor?: string, only: PageThreadFilter = {}) {
    const { rows, nextCursor } = await this.pageThreads(pageId, limit, cursor, only);
    return { data: rows.map((r) => this.pageThreadViewOf(r)), paging: { next_cursor: nextCursor } };
  }

  // One of the Page's threads as the inbox lists it (null: not this Page's, or no message yet).
  async pageThreadView(pageId: string, threadId: string) {
    const { rows } = await this.pageThreads(pageId, 1, undefined, { threadId });
    return rows[0] ? this.pageThreadViewOf(rows[0]) : null;
  }

  private pageThreadViewOf(r: PageThreadRow) {
    return {
      id: r.id,
      psid: r.psid,
      person: { name: r.person_name },
      last_message: r.last_message ? toMessageView(r.last_message, (a) => this.media.forPerson(a), { forPage: true }) : null,
      unread_count: r.unread_count,
      last_timestamp: Number(r.last_timestamp),
      control: controlView(r),
      done: r.done,
      // The person blocked messages from the Page: its people can read the conversation, not answer it.
      blocked: r.blocked_at != null,
      assignee: r.assignee_user_id ? { id: r.assignee_user_id, name: r.assignee_name ?? '' } : null,
    };
  }

  // The rows behind listPageThreads (the Graph Conversations API reads them too); `only` narrows to one person's
  // thread (psid) or one thread (id), to a folder (done: marked done, and the person wrote nothing since), or to
  // whom it is assigned ('' : nobody). One statement per combination of filters, each read off the index that
  // holds its threads in order (see ThreadEntity), so a page costs its own rows, not the Page's threads:
  // `$n IS NULL OR …` filters would leave the planner a sort of every thread of the Page.
  pageThreads(pageId: string, limit: number, cursor?: string, only: PageThreadFilter = {}) {
    const q = new ListQuery([pageId]);
    // activity_minute is set with the first message (last_seq > 0), and it is what the indexes are partial on.
    const where = ['t.page_id = $1', 't.activity_minute IS NOT NULL'];
    if (only.threadId !== undefined) where.push(`t.id = ${q.param(only.threadId)}`);
    if (only.psid !== undefined) where.push(`t.psid = ${q.param(only.psid)}`);
    if (only.assignee !== undefined) where.push(only.assignee === '' ? 't.assignee_user_id IS NULL' : `t.assignee_user_id = ${q.param(only.assignee)}`);
    // The people whose name has it, as a semi-join the planner may start from either side, by its estimate of how
    // many names match (statistics of lower(name), the trigram index's expression; each call is planned with its
    // pattern): few, and it finds them off users_name_trgm_idx (a pattern of 3+ letters or digits) and looks up
    // their threads of this Page, then sorts those; many, and it reads the folder's index in order, checking each
    // thread's person by key, and stops at the page. A pattern too short for trigrams (1–2 letters) leaves it a
    // scan of people's names or the folder's walk, whichever it costs less.
    if (only.nameContains) where.push(`t.user_id IN (SELECT n.id FROM users n WHERE lower(n.name) LIKE lower(${q.param(containsPattern(only.nameContains))}))`);
    if (cursor) where.push(q.after(cursor, true));
    // With an assignee the index leads with it: ordering by it too (one value) lets its scan give the order.
    const leading = [...(only.assignee === undefined ? [] : ['assignee_user_id']), 'activity_minute'];
    const n = q.limit(limit);
    const folder = (done: boolean) => (done ? 't.page_done_seq IS NOT NULL' : 't.page_done_seq IS NULL');
    const select = (cond: string[]) => `SELECT t.* FROM threads t WHERE ${cond.join(' AND ')} ORDER BY ${activityOrder('t.', leading)} LIMIT ${n}`;
    let threads: string;
    if (only.done !== undefined) threads = select([...where, folder(only.done)]);
    // One thread at most: its key finds it.
    else if (only.threadId !== undefined || only.psid !== undefined) threads = select(where);
    // Both folders: each index's first rows, merged.
    else threads = `(${select([...where, folder(false)])}) UNION ALL (${select([...where, folder(true)])}) ORDER BY ${activityOrder('', leading)} LIMIT ${n}`;
    return this.threadsByActivity<PageThreadExtra>(
      `(SELECT u.name FROM users u WHERE u.id = t.user_id) AS person_name, ${CONTROL_COLUMNS}, t.page_done_seq IS NOT NULL AS done,
       (SELECT a.name FROM users a WHERE a.id = t.assignee_user_id) AS assignee_name`,
      threads,
      q.params,
      'person',
      'page_read_seq',
      limit,
    );
  }

  // Whether the person wrote in the thread after `seq`.
  async personWroteAfter(threadId: string, seq: number): Promise<boolean> {
    const rows = await this.sql.query(`SELECT 1 FROM messages WHERE thread_id = $1 AND seq > $2 AND sender = 'person' LIMIT 1`, [threadId, seq]);
    return rows.length > 0;
  }

  // The Page's people file a conversation: done as of its last message (or back in the inbox; the person's next
  // message brings it back by itself, see appendMessage) and assigned to one of the Page's admins (null: nobody).
  // Undefined leaves each as it is. `ifSeenUpTo`: only if the person has written nothing after that seq (what the
  // filer saw; the Page's own messages don't count). Answers whether it was filed: false when the person wrote since,
  // or the assignee is not (or no longer) an admin, both checked in the same statement, under the thread's row lock,
  // so neither can slip between the check and the write.
  async filePageThread(threadId: string, change: { done?: boolean; assigneeUserId?: string | null; ifSeenUpTo?: number }): Promise<boolean> {
    const rows = rowsOf(
      await this.db.query(
        `UPDATE threads t SET page_done_seq = CASE WHEN $2::boolean IS NULL THEN t.page_done_seq WHEN $2 THEN t.last_seq END,
                              assignee_user_id = CASE WHEN $3 THEN $4::varchar ELSE t.assignee_user_id END
          WHERE t.id = $1
            AND ($5::bigint IS NULL OR NOT EXISTS (
                   SELECT 1 FROM messages n WHERE n.thread_id = t.id AND n.seq > $5 AND n.sender = 'person'))
            AND ($4::varchar IS NULL OR EXISTS (SELECT 1 FROM page_admins a WHERE a.page_id = t.page_id AND a.user_id = $4))
          RETURNING t.id`,
        [threadId, change.done ?? null, change.assigneeUserId !== undefined, change.assigneeUserId ?? null, change.ifSeenUpTo ?? null],
      ),
    );
    return rows.length > 0;
  }

  // One of the Page's threads (not found: not this Page's), with who controls it.
  async findPageThread(pageId: string, threadId: string): Promise<ThreadRow & ControlRow> {
    const rows = /^\d{1,20}$/.test(threadId)
      ? await this.sql.query<ThreadRow & ControlRow>(`SELECT t.*, ${CONTROL_COLUMNS} FROM threads t WHERE t.id = $1 AND t.page_id = $2`, [
          threadId,
          pageId,
        ])
      : [];
    if (!rows[0]) throw MessagingErrors.threadNotFound(threadId);
    return rows[0];
  }

  // As the person's listing, plus which app sent each of the Page's messages (the Page Inbox's id for its people's):
  // the Page's own people may know which of their bots said what; the person sees only the Page. The Page's people
  // see its coupons' codes, revealed or not.
  async listPageThreadMessages(pageId: string, threadId: string, afterSeq: number, limit: number, origin?: string) {
    return this.messagesOf(await this.findPageThread(pageId, threadId), afterSeq, limit, origin, true);
  }

  // One of the Page's threads' messages, newest first, before `beforeSeq` (null: from the last): Graph's order.
  async pageMessagesNewestFirst(threadId: string, beforeSeq: number | null, limit: number): Promise<MessageRow[]> {
    return this.sql.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE thread_id = $1 AND ($2::bigint IS NULL OR seq < $2) ORDER BY seq DESC LIMIT $3`,
      [threadId, beforeSeq, limit],
    );
  }

  // A message by mid, if it is in one of this Page's threads, with what a Graph message node names: the thread's
  // PSID, the person's and the Page's names.
  async findPageMessage(pageId: string, mid: string): Promise<(MessageRow & { psid: string; person_name: string; page_name: string }) | undefined> {
    if (mid.length > 64) return undefined;
    const [row] = await this.sql.query<MessageRow & { psid: string; person_name: string; page_name: string }>(
      `SELECT ${MESSAGE_COLUMNS.split(', ').map((c) => `m.${c}`).join(', ')}, t.psid, u.name AS person_name, p.name AS page_name
         FROM messages m JOIN threads t ON t.id = m.thread_id JOIN users u ON u.id = t.user_id JOIN pages p ON p.id = t.page_id
        WHERE m.mid = $1 AND t.page_id = $2`,
      [mid, pageId],
    );
    return row;
  }

  // The Page's message of this thread sent with this client_message_id, if any (a retried send).
  async findPageMessageByClientId(threadId: string, clientMessageId: string): Promise<{ mid: string; seq: number; timestamp: number } | undefined> {
    const rows = await this.sql.query<{ mid: string; seq: string; timestamp: string }>(
      `SELECT mid, seq, timestamp FROM messages WHERE thread_id = $1 AND sender = 'page' AND client_message_id = $2`,
      [threadId, clientMessageId],
    );
    return rows[0] && { mid: rows[0].mid, seq: Number(rows[0].seq), timestamp: Number(rows[0].timestamp) };
  }

  private async messagesOf(t: ThreadRow, afterSeq: number, limit: number, origin?: string, withApp = false) {
    const rows: MessageRow[] = await this.db.query(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE thread_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [t.id, afterSeq, limit + 1],
    );
    // Attachment URLs are signed here, per request: a participant re-lists to get fresh ones.
    const present = (a: unknown[]) => this.media.forPerson(a, origin);
    const thumbsFrom = await this.thumbsApps(t.page_id, this.sql.query.bind(this.sql));
    const view = (r: MessageRow) => toMessageView(r, present, { forPage: withApp, thumbsFrom });
    const data = rows.slice(0, limit).map((r) => (withApp && r.sender === 'page' && r.app_id ? { ...view(r), app_id: r.app_id } : view(r)));
    return { data, has_more: rows.length > limit, last_seq: Number(t.last_seq) };
  }

  // --- the person's side ---

  async sendPersonMessage(
    userId: string,
    threadId: string,
    input: {
      text?: string;
      quick_reply?: { payload: string };
      attachments?: { media_id: string }[];
      reply_to?: { mid: string };
      client_message_id: string;
    },
    origin?: string,
  ): Promise<SentMessage> {
    const build = async (thread: ThreadFacts) => {
      const content: Record<string, unknown> = {};
      if (input.text !== undefined) content.text = input.text;
      if (input.reply_to) {
        // Either side's message of this thread; whether it was their own is what the bots are told (is_self_reply).
        const [quoted] = await this.sql.query<{ sender: string }>(`SELECT sender FROM messages WHERE thread_id = $1 AND mid = $2`, [
          thread.id,
          input.reply_to.mid,
        ]);
        if (!quoted) throw MessagingErrors.replyToNotFound(input.reply_to.mid);
        content.reply_to = { mid: input.reply_to.mid, ...(quoted.sender === 'person' ? { is_self_reply: true } : {}) };
      }
      if (input.quick_reply) {
        await this.requireOfferedQuickReply(thread, input.quick_reply.payload, input.text);
        content.quick_reply = { payload: input.quick_reply.payload };
      }
      // Checked before the transaction: only this thread's own uploads may be sent.
      const ids = (input.attachments ?? []).map((a) => a.media_id);
      if (ids.length) content.attachments = await this.media.attachmentsFor(ids, { pageId: thread.page_id, threadId: thread.id });
      if (content.text === undefined && !content.attachments) throw MessagingErrors.emptyMessage();
      return content;
    };
    return this.personSend(userId, threadId, 'message', build, input.client_message_id, 'messages', origin);
  }

  async sendPostback(
    userId: string,
    threadId: string,
    input: { title: string; payload: string; client_message_id?: string },
  ): Promise<SentMessage> {
    let ref: string | null = null;
    const build = async (thread: ThreadFacts) => {
      await this.requireOfferedPostback(thread, input.title, input.payload);
      // Get Started on a thread opened from a ref link carries that referral (see openedWithRef). Taken, not read:
      // of two taps at once only one carries it.
      if (input.title === GET_STARTED_TITLE) {
        const [t] = await this.sql.query<{ pending_ref: string }>(
          `UPDATE threads t SET pending_ref = NULL FROM (SELECT id, pending_ref FROM threads WHERE id = $1 FOR UPDATE) o
            WHERE t.id = o.id AND o.pending_ref IS NOT NULL RETURNING o.pending_ref`,
          [thread.id],
        );
        ref = t?.pending_ref ?? null;
      }
      return { postback: { title: input.title, payload: input.payload }, ...(ref === null ? {} : { ref }) };
    };
    // A tap that stored nothing (refused, or a retry of a stored one) puts the ref back for the next tap.
    const putBack = () =>
      ref === null ? undefined : this.sql.query(`UPDATE threads SET pending_ref = $2 WHERE id = $1 AND pending_ref IS NULL`, [threadId, ref]);
    try {
      const sent = await this.personSend(userId, threadId, 'postback', build, input.client_message_id ?? null, 'messaging_postbacks');
      if (!sent.created) await putBack();
      return sent;
    } catch (err) {
      await Promise.resolve(putBack()).catch(() => undefined);
      throw err;
    }
  }

  // Bots act on postback and quick-reply payloads as on commands they wrote themselves, so a person may send only
  // what the Page offered them, as on Messenger: a postback button (title and payload) of one of the Page's
  // recent messages in the thread, its persistent menu (or the person's own), Get Started, or an ice breaker.
  private async requireOfferedPostback(thread: ThreadFacts, title: string, payload: string): Promise<void> {
    const [row] = await this.sql.query<{ offered: boolean }>(
      `SELECT EXISTS (
                SELECT 1 FROM (SELECT content FROM messages WHERE thread_id = $1 AND sender = 'page'
                                ORDER BY seq DESC LIMIT ${OFFERING_MESSAGES}) m
                 WHERE jsonb_path_exists(m.content, 'lax $.** ? (@.type == "postback" && @.payload == $p && @.title == $t)', $3))
           OR EXISTS (
                SELECT 1 FROM messenger_profiles mp
                 WHERE mp.page_id = $2
                   AND ((mp.settings->'get_started'->>'payload' = $3->>'p' AND $3->>'t' = '${GET_STARTED_TITLE}')
                        OR jsonb_path_exists(mp.settings, 'lax $.persistent_menu.** ? (@.type == "postback" && @.payload == $p && @.title == $t)', $3)
                        OR jsonb_path_exists(mp.settings, 'lax $.ice_breakers.** ? (@.payload == $p && @.question == $t)', $3)))
           OR EXISTS (
                SELECT 1 FROM custom_user_settings cu
                 WHERE cu.page_id = $2 AND cu.psid = $4
                   AND jsonb_path_exists(cu.persistent_menu, 'lax $.** ? (@.type == "postback" && @.payload == $p && @.title == $t)', $3)) AS offered`,
      [thread.id, thread.page_id, JSON.stringify({ p: payload, t: title }), thread.psid],
    );
    if (!row?.offered) throw MessagingErrors.postbackNotOffered();
  }

  // A quick reply answers the thread's latest message, when it is the Page's and offers it (anything newer, from
  // either side, takes the chips away, as on Messenger): a text chip by its payload, its title as the text (what
  // Messenger posts; any text for an image chip without one); an email or phone chip by the person's value, which is both text and payload, and must be an
  // address or a number.
  private async requireOfferedQuickReply(thread: ThreadFacts, payload: string, text: string | undefined): Promise<void> {
    const contact = payload !== text ? null : EMAIL.test(payload) ? 'user_email' : isPhoneNumber(payload) ? 'user_phone_number' : null;
    const [row] = await this.sql.query<{ offered: boolean }>(
      `SELECT EXISTS (
         SELECT 1 FROM (SELECT sender, content FROM messages WHERE thread_id = $1 ORDER BY seq DESC LIMIT 1) m
          CROSS JOIN LATERAL jsonb_array_elements(
                CASE WHEN m.sender = 'page' AND jsonb_typeof(m.content->'quick_replies') = 'array'
                     THEN m.content->'quick_replies' ELSE '[]'::jsonb END) q
          WHERE (q->>'content_type' = 'text' AND q->>'payload' = $2 AND (q->>'title' = $4 OR btrim(coalesce(q->>'title', '')) = ''))
             OR q->>'content_type' = $3) AS offered`,
      [thread.id, payload, contact, text ?? null],
    );
    if (!row?.offered) throw MessagingErrors.quickReplyNotOffered();
  }

  private async personSend(
    userId: string,
    threadId: string,
    kind: 'message' | 'postback',
    contentOf: Record<string, unknown> | ((thread: ThreadFacts) => Promise<Record<string, unknown>>),
    clientMessageId: string | null,
    field: MessengerField,
    origin?: string,
  ): Promise<SentMessage> {
    // The thread's immutable facts are cached; ownership and the page's suspension are checked again by the
    // statement itself, so a stale entry can only make it write nothing (then the slow path says why).
    const cached = this.threadFacts.get(threadId);
    const thread = cached?.user_id === userId ? cached : this.remember(await this.findOwnThread(userId, threadId));
    // Per person, not per thread: a flood across many Pages is still one person's flood. Refused before anything
    // is written, so a refused send can be retried with the same client_message_id.
    const bucket = await this.consumePersonSend(userId);
    if (!bucket.allowed) {
      // A retry of a message already stored writes nothing, so it is answered with that message, limit or not.
      const stored = clientMessageId ? await this.findByClientId(thread.id, clientMessageId) : undefined;
      if (stored) return stored;
      throw MessagingErrors.sendingTooFast(bucket.retryAfterMs);
    }
    let content: Record<string, unknown>;
    try {
      content = typeof contentOf === 'function' ? await contentOf(thread) : contentOf;
    } catch (err) {
      // A retry of a stored message is answered with it, though what made it valid (a quick reply the Page's
      // next message replaced) may be gone by now.
      const stored = clientMessageId && err instanceof AppException ? await this.findByClientId(thread.id, clientMessageId) : undefined;
      if (stored) return stored;
      throw err;
    }
    // The bot's webhook and the person's echo carry signed, expiring URLs (minted now, TTL MEDIA_URL_TTL_SECONDS).
    // The bot's on the platform's own origin, never the person's request's: its Host header is theirs to choose, and
    // would send the Page's bots to fetch "our" media from a server of the person's.
    const forBot = (a: unknown[]) => this.media.forWebhook(a);
    const forPerson = (a: unknown[]) => this.media.forPerson(a, origin);
    const draft = this.draft(thread, { sender: 'person', appId: null, kind, content, clientMessageId });
    try {
      const appended = await this.appendMessage(this.sql.query.bind(this.sql), thread, draft, 'echo', forPerson, {
        pageId: thread.page_id,
        field,
        threadKey: thread.psid,
        messaging: personMessageItem({ psid: thread.psid, pageId: thread.page_id }, draft, forBot),
      });
      if (appended) {
        const { row, event, deliveries } = appended;
        await this.announce(userId, [event], deliveries);
        // A ref link held for Get Started, and the person wrote instead: the bots get it now. Should this fail, the
        // ref stays held and the person's next message tries again.
        if (appended.refPending && content.ref === undefined) {
          await this.releasePendingRef(thread).catch((err: Error) => this.logger.warn(`held ref not sent: ${err.message}`));
        }
        return { mid: row.mid, seq: Number(row.seq), timestamp: Number(row.timestamp), created: true };
      }
    } catch (err) {
      // A concurrent retry won the unique (thread, sender, client_message_id): the statement wrote nothing.
      if (!(clientMessageId && isUniqueViolation(err))) throw err;
    }
    // Nothing was written: a retry of a stored message, a page suspended meanwhile, the person blocked messages
    // from the Page, or a thread not (or no longer) this person's.
    if (clientMessageId) {
      const first = await this.findByClientId(thread.id, clientMessageId);
      if (first) return first;
    }
    this.forgetThread(thread);
    const fresh = await this.findOwnThread(userId, threadId);
    if (fresh.page_suspended_at) throw notFound('PAGE.NOT_FOUND', `No page ${fresh.page_id}`);
    if (fresh.blocked_at != null) throw MessagingErrors.threadBlocked();
    throw MessagingErrors.threadNotFound(threadId);
  }

  // The person blocks (or unblocks) messages from the thread's Page, as on Messenger: while blocked nothing the Page
  // sends reaches them (the Send API answers 551, the Page Inbox THREAD.BLOCKED) and they write nothing to it. Their
  // other devices get a `block` event; the Page's bots get nothing (Meta sends no webhook for a block). Setting what
  // is already set writes nothing and tells no one, and answers the thread as it is.
  async setBlocked(userId: string, threadId: string, blocked: boolean): Promise<ThreadRow> {
    const thread = await this.findOwnThread(userId, threadId);
    // A toggle is written and pushed to the Page's inbox watchers: the person's bucket bounds how often.
    if ((thread.blocked_at != null) !== blocked) await this.spendPersonSend(userId);
    return (await this.blockWith(thread, blocked, async () => undefined)).thread;
  }

  // The block's transaction (as setBlocked: the caller checked the thread is the person's and spent their bucket),
  // with `alongside` written in it under the thread's row lock, after the block: another module's change that must
  // stand or fall with it (a report that also blocks). `lastSeq`: the thread's last seq under that lock.
  async blockWith<T>(
    thread: ThreadFacts,
    blocked: boolean,
    alongside: (m: EntityManager, lastSeq: number) => Promise<T>,
  ): Promise<{ thread: ThreadRow; result: T }> {
    const userId = thread.user_id;
    return this.run(async (m) => {
      const [t] = rowsOf<ThreadRow>(
        await m.query(
          `UPDATE threads SET blocked_at = CASE WHEN $2 THEN $3::bigint END
            WHERE id = $1 AND (blocked_at IS NULL) = $2 RETURNING *`,
          [thread.id, blocked, Date.now()],
        ),
      );
      if (!t) {
        const [now] = rowsOf<ThreadRow>(await m.query(`SELECT * FROM threads WHERE id = $1 FOR UPDATE`, [thread.id]));
        return { result: { thread: now, result: await alongside(m, Number(now.last_seq)) }, events: [], deliveries: [] };
      }
      const event = await this.appendEvent(m, userId, {
        type: 'block',
        blocked,
        blocked_at: t.blocked_at == null ? null : Number(t.blocked_at),
        thread_id: t.id,
        page_id: t.page_id,
        seq: Number(t.last_seq),
      });
      return { result: { thread: t, result: await alongside(m, Number(t.last_seq)) }, events: [event], deliveries: [] };
    }, userId);
  }

  // One bucket for everything a person writes that reaches the Page's bots: messages, postbacks, reactions,
  // edits and referrals; and their uploads.
  private consumePersonSend(userId: string) {
    const env = this.config.env;
    return this.limiter.consume(`person-send:${userId}`, {
      capacity: env.PERSON_SEND_BURST,
      refillPerSecond: env.PERSON_SEND_RATE_PER_SECOND,
    });
  }

  // A token of the person's send bucket (shared by their sends, reactions, edits, refs and Log In taps), or 429.
  async spendPersonSend(userId: string): Promise<void> {
    const bucket = await this.consumePersonSend(userId);
    if (!bucket.allowed) throw MessagingErrors.sendingTooFast(bucket.retryAfterMs);
  }

  private remember(t: ThreadRow): ThreadRow {
    // A suspended page's thread is not cached: its check must run on the slow path each time.
    if (t.page_suspended_at) throw notFound('PAGE.NOT_FOUND', `No page ${t.page_id}`);
    this.rememberFacts(t);
    return t;
  }

  private rememberFacts(t: ThreadFacts): void {
    if (this.threadFacts.size >= THREAD_FACTS_MAX) {
      const oldest = this.threadFacts.values().next().value!;
      this.forgetThread(oldest);
    }
    this.threadFacts.set(t.id, { id: t.id, page_id: t.page_id, user_id: t.user_id, psid: t.psid });
    this.threadByPsid.set(`${t.page_id}:${t.psid}`, t.id);
  }

  private async findByClientId(threadId: string, clientMessageId: string): Promise<SentMessage | undefined> {
    const rows = await this.sql.query<MessageRow>(
      `SELECT mid, seq, timestamp FROM messages WHERE thread_id = $1 AND sender = 'person' AND client_message_id = $2`,
      [threadId, clientMessageId],
    );
    return rows[0] ? { mid: rows[0].mid, seq: Number(rows[0].seq), timestamp: Number(rows[0].timestamp), created: false } : undefined;
  }

  // Everything the Page sent up to `watermark` (ms) is read. A watermark that moves nothing writes nothing.
  async markRead(userId: string, threadId: string, watermark: number): Promise<{ watermark: number; seq: number }> {
    const thread = await this.findOwnThread(userId, threadId);
    const now = Date.now();
    const wm = Math.min(watermark, now);
    if (wm <= Number(thread.person_read_watermark)) {
      return { watermark: Number(thread.person_read_watermark), seq: Number(thread.person_read_seq) };
    }
    return this.run(async (m) => {
      // Only a mark that still moves is written: of concurrent calls with one watermark, the first writes the
      // receipt and the rest (re-checked on the row once it commits) find it done and say nothing.
      const [t] = rowsOf<ThreadRow>(
        await m.query(
          `UPDATE threads
              SET person_read_watermark = $2,
                  person_read_seq = GREATEST(person_read_seq,
                    (SELECT COALESCE(max(seq), 0) FROM messages WHERE thread_id = $1 AND timestamp <= $2))
            WHERE id = $1 AND person_read_watermark < $2 RETURNING *`,
          [thread.id, wm],
        ),
      );
      if (!t) {
        const [now] = await m.query(`SELECT person_read_watermark, person_read_seq FROM threads WHERE id = $1`, [thread.id]);
        return { result: { watermark: Number(now.person_read_watermark), seq: Number(now.person_read_seq) }, events: [], deliveries: [] };
      }
      const event = await this.appendEvent(m, userId, {
        type: 'read',
        by: 'person',
        watermark: Number(t.person_read_watermark),
        thread_id: t.id,
        page_id: t.page_id,
        seq: Number(t.last_seq),
      });
      // While the person blocks the Page, it learns nothing of them (their own devices still sync).
      const deliveries = t.blocked_at != null ? [] : await this.webhooks.recordPageEvent(m, {
        pageId: t.page_id,
        field: 'message_reads',
        threadKey: t.psid,
        messaging: readItem({ psid: t.psid, pageId: t.page_id }, Number(t.person_read_watermark), now),
      });
      return {
        result: { watermark: Number(t.person_read_watermark), seq: Number(t.person_read_seq) },
        events: [event],
        deliveries,
      };
    }, userId);
  }

  // The person's client acknowledges what it received: by watermark, or by the Page's mids.
  async markDelivered(userId: string, threadId: string, input: { watermark?: number; mids?: string[] }) {
    const thread = await this.findOwnThread(userId, threadId);
    const now = Date.now();
    let wm = input.watermark !== undefined ? Math.min(input.watermark, now) : 0;
    const mids = input.mids ? [...new Set(input.mids)] : undefined;
    if (mids?.length) {
      const rows: { mid: string; timestamp: string }[] = await this.db.query(
        `SELECT mid, timestamp FROM messages WHERE thread_id = $1 AND sender = 'page' AND mid = ANY($2::varchar[])`,
        [thread.id, mids],
      );
      if (rows.length !== mids.length) {
        const known = new Set(rows.map((r) => r.mid));
        throw MessagingErrors.unknownMids(mids.filter((x) => !known.has(x)));
      }
      wm = Math.max(wm, ...rows.map((r) => Number(r.timestamp)));
    } else if (input.watermark === undefined) {
      throw MessagingErrors.deliveryNeedsWatermark();
    }
    if (wm <= Number(thread.person_delivered_watermark)) {
      return { watermark: Number(thread.person_delivered_watermark) };
    }
    return this.run(async (m) => {
      // As for reads: concurrent calls with one watermark write one receipt.
      const [t] = rowsOf<ThreadRow>(
        await m.query(
          `UPDATE threads SET person_delivered_watermark = $2 WHERE id = $1 AND person_delivered_watermark < $2 RETURNING *`,
          [thread.id, wm],
        ),
      );
      if (!t) {
        const [now] = await m.query(`SELECT person_delivered_watermark FROM threads WHERE id = $1`, [thread.id]);
        return { result: { watermark: Number(now.person_delivered_watermark) }, events: [], deliveries: [] };
      }
      const watermarkNow = Number(t.person_delivered_watermark);
      const event = await this.appendEvent(m, userId, {
        type: 'delivery',
        by: 'person',
        watermark: watermarkNow,
        ...(mids?.length ? { mids } : {}),
        thread_id: t.id,
        page_id: t.page_id,
        seq: Number(t.last_seq),
      });
      const deliveries = t.blocked_at != null ? [] : await this.webhooks.recordPageEvent(m, {
        pageId: t.page_id,
        field: 'message_deliveries',
        threadKey: t.psid,
        messaging: deliveryItem({ psid: t.psid, pageId: t.page_id }, watermarkNow, now, mids),
      });
      return { result: { watermark: watermarkNow }, events: [event], deliveries };
    }, userId);
  }

  // The person's one reaction to a message of the thread (either side's): an emoji sets or changes it, null
  // removes it. Setting what is already there writes nothing and tells no one.
  async setPersonReaction(userId: string, threadId: string, mid: string, emoji: string | null): Promise<{ mid: string; reaction: string | null }> {
    const thread = await this.writableThread(userId, threadId);
    await this.spendPersonSend(userId);
    const { found, reaction } = await this.run((m) => this.react(m, thread, 'person', mid, emoji), userId);
    if (!found) throw MessagingErrors.messageNotFound(mid);
    return { mid, reaction };
  }

  // The person changes the text of a message they sent, at most MAX_EDITS times within EDIT_WINDOW_MS (as on
  // Messenger); the Page's bots get message_edits, the person's other devices an `edit` event.
  async editPersonMessage(userId: string, threadId: string, mid: string, text: string, origin?: string): Promise<MessageView> {
    return this.actOnMessage(userId, threadId, mid, origin, async (m, msg, { thread, lastSeq, forPerson }) => {
      if (msg.sender !== 'person' || msg.kind !== 'message' || typeof msg.content.text !== 'string' || msg.content.quick_reply) {
        throw MessagingErrors.notEditable();
      }
      if (msg.content.text === text) return { result: toMessageView(msg, forPerson), events: [], deliveries: [] };
      if (Number(msg.num_edit) >= MAX_EDITS) throw MessagingErrors.editLimit(MAX_EDITS);
      if (Date.now() - Number(msg.timestamp) > EDIT_WINDOW_MS) throw MessagingErrors.editWindowClosed(EDIT_WINDOW_MS / 60_000);
      const [edited] = rowsOf<MessageRow>(
        await m.query(
          `UPDATE messages SET content = jsonb_set(content, '{text}', to_jsonb($2::text)), num_edit = num_edit + 1
            WHERE mid = $1 RETURNING ${MESSAGE_COLUMNS}`,
          [mid, text],
        ),
      );
      const view = toMessageView(edited, forPerson);
      const event = await this.appendEvent(m, userId, { type: 'edit', message: view, thread_id: thread.id, page_id: thread.page_id, seq: lastSeq });
      const deliveries = await this.webhooks.recordPageEvent(m, {
        pageId: thread.page_id,
        field: 'message_edits',
        threadKey: thread.psid,
        messaging: editItem({ psid: thread.psid, pageId: thread.page_id }, { mid, text, numEdit: Number(edited.num_edit) }, Date.now()),
      });
      return { result: view, events: [event], deliveries };
    });
  }

  // The person taps "Reveal code" on a coupon the Page sent: the code shows on every device of theirs, and the Page's
  // bots get Messenger's `messages` item {template: {type: coupon, payload, coupon_code}}. Once: a second tap (from
  // any device, or two at once: the thread's lock orders them) answers the same and tells no one.
  async revealCoupon(userId: string, threadId: string, mid: string, origin?: string): Promise<MessageView> {
    return this.actOnMessage(userId, threadId, mid, origin, async (m, row, { thread, lastSeq, forPerson }) => {
      const coupon = row.sender === 'page' ? couponOf(row.content) : undefined;
      if (coupon?.coupon_code === undefined) throw MessagingErrors.notACoupon();
      if (row.coupon_revealed_at != null) return { result: toMessageView(row, forPerson), events: [], deliveries: [] };
      const now = Date.now();
      await m.query(`UPDATE messages SET coupon_revealed_at = $2 WHERE mid = $1`, [mid, now]);
      const code = coupon.coupon_code;
      const event = await this.appendEvent(m, userId, {
        type: 'coupon_reveal',
        mid,
        coupon_code: code,
        revealed_at: now,
        thread_id: thread.id,
        page_id: thread.page_id,
        seq: lastSeq,
      });
      const deliveries = await this.webhooks.recordPageEvent(m, {
        pageId: thread.page_id,
        field: 'messages',
        threadKey: thread.psid,
        messaging: couponRevealItem({ psid: thread.psid, pageId: thread.page_id }, { coupon_code: code, payload: coupon.payload }, now),
      });
      return { result: toMessageView({ ...row, coupon_revealed_at: now }, forPerson), events: [event], deliveries };
    });
  }

  // The person answers the Page's customer feedback request: once, before it expires. The Page's bots get Messenger's
  // messaging_feedback; the person's other devices a `feedback` event. A retry with the same answers (a lost
  // response, a double tap) answers the same and tells no one; other answers after the first are refused.
  async submitFeedback(userId: string, threadId: string, mid: string, answers: FeedbackAnswer[], origin?: string): Promise<MessageView> {
    return this.actOnMessage(userId, threadId, mid, origin, async (m, row, { thread, lastSeq, forPerson }) => {
      const request = row.sender === 'page' ? feedbackRequestOf(row.content) : undefined;
      if (!request) throw MessagingErrors.notAFeedbackRequest();
      const checked = checkFeedbackAnswers(request, answers);
      if ('error' in checked) throw MessagingErrors.feedbackInvalid(checked.error, checked.index);
      if (row.feedback) {
        if (!isDeepStrictEqual(row.feedback.feedback_screens, checked.item.feedback_screens)) throw MessagingErrors.feedbackGiven();
        return { result: toMessageView(row, forPerson), events: [], deliveries: [] };
      }
      const now = Date.now();
      if (now > feedbackView(request, Number(row.timestamp), null).expires_at) throw MessagingErrors.feedbackExpired();
      const stored: StoredFeedback = { submitted_at: now, feedback_screens: checked.item.feedback_screens };
      await m.query(`UPDATE messages SET feedback = $2 WHERE mid = $1`, [mid, JSON.stringify(stored)]);
      const view = toMessageView({ ...row, feedback: stored }, forPerson);
      const event = await this.appendEvent(m, userId, {
        type: 'feedback',
        mid,
        feedback: view.feedback!,
        thread_id: thread.id,
        page_id: thread.page_id,
        seq: lastSeq,
      });
      const deliveries = await this.webhooks.recordPageEvent(m, {
        pageId: thread.page_id,
        field: 'messaging_feedback',
        threadKey: thread.psid,
        messaging: feedbackItem({ psid: thread.psid, pageId: thread.page_id }, checked.item, now),
      });
      return { result: view, events: [event], deliveries };
    });
  }

  // The person's thumbs up or down on a bot's message (Messenger's response_feedback): offered on the messages of
  // an app the Page subscribes to response_feedback, and told to that app alone. A change of mind is told again; the
  // same thumb again tells no one.
  async setResponseFeedback(userId: string, threadId: string, mid: string, value: ResponseFeedback): Promise<{ mid: string; feedback: ResponseFeedback }> {
    return this.actOnMessage(userId, threadId, mid, undefined, async (m, row, { thread, lastSeq }) => {
      const app = row.sender === 'page' && row.app_id !== PAGE_INBOX_APP_ID ? row.app_id : null;
      const [offered] = app
        ? await m.query(`SELECT 1 FROM page_apps WHERE page_id = $1 AND app_id = $2 AND 'response_feedback' = ANY(subscribed_fields)`, [thread.page_id, app])
        : [];
      if (!app || !offered) throw MessagingErrors.responseFeedbackNotOffered();
      const result = { mid, feedback: value };
      if (row.response_feedback === value) return { result, events: [], deliveries: [] };
      await m.query(`UPDATE messages SET response_feedback = $2 WHERE mid = $1`, [mid, value]);
      const event = await this.appendEvent(m, userId, { type: 'thumbs', mid, feedback: value, thread_id: thread.id, page_id: thread.page_id, seq: lastSeq });
      const deliveries = await this.webhooks.recordPageEvent(m, {
        pageId: thread.page_id,
        field: 'response_feedback',
        threadKey: thread.psid,
        toApp: app,
        messaging: responseFeedbackItem({ psid: thread.psid, pageId: thread.page_id }, { mid, value }, Date.now()),
      });
      return { result, events: [event], deliveries };
    });
  }

  // The Page's apps subscribed to response_feedback, whose messages the person may rate. Cached per process for
  // THUMBS_APPS_TTL_MS: a Page message's view asks on every send, and a change of subscription may take that long to
  // show on new messages (the route itself checks the subscription as it stands).
  // Inside a transaction a miss must be asked on that transaction's connection (`q`): asked on the pool, every
  // concurrent send holding a connection would wait for another, and a full pool waits until its connect timeout.
  private async thumbsApps(pageId: string, q: SqlQuery): Promise<ReadonlySet<string>> {
    const hit = this.thumbsAppsCache.get(pageId);
    if (hit && hit.until > Date.now()) return hit.apps;
    const rows = await q<{ app_id: string }>(
      `SELECT app_id FROM page_apps WHERE page_id = $1 AND 'response_feedback' = ANY(subscribed_fields)`,
      [pageId],
    );
    if (this.thumbsAppsCache.size >= THUMBS_APPS_CACHE_MAX) this.thumbsAppsCache.clear();
    const apps = new Set(rows.map((r) => r.app_id));
    this.thumbsAppsCache.set(pageId, { apps, until: Date.now() + THUMBS_APPS_TTL_MS });
    return apps;
  }

  // What the person does to one message of their thread (edit, reveal, answer, thumbs): the thread writable, the person's
  // send bucket spent, then `act` in one transaction under the thread's row lock with the message's row (404 when the
  // thread has no such mid).
  private async actOnMessage<T>(
    userId: string,
    threadId: string,
    mid: string,
    origin: string | undefined,
    act: (m: EntityManager, row: MessageRow, ctx: { thread: ThreadFacts; lastSeq: number; forPerson: AttachmentPresenter }) => Promise<Outcome<T>>,
  ): Promise<T> {
    const thread = await this.writableThread(userId, threadId);
    await this.spendPersonSend(userId);
    const forPerson = (a: unknown[]) => this.media.forPerson(a, origin);
    return this.run(async (m) => {
      const lastSeq = await this.lockThread(m, thread.id, MessagingErrors.threadBlocked);
      const [row] = (await m.query(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE thread_id = $1 AND mid = $2`, [thread.id, mid])) as MessageRow[];
      if (!row) throw MessagingErrors.messageNotFound(mid);
      return act(m, row, { thread, lastSeq, forPerson });
    }, userId);
  }

  // The person opened the thread through a ref link (m.me/<page>?ref=…). A thread with no messages yet whose
  // Page offers Get Started keeps the ref for that postback (Messenger's new-thread referral; should the person write
  // instead, their first message releases it); otherwise the Page's bots get messaging_referrals now.
  private async openedWithRef(thread: ThreadRow, ref: string): Promise<void> {
    await this.run(async (m) => {
      const lastSeq = await this.lockThread(m, thread.id);
      const [held] = lastSeq === 0
        ? rowsOf<{ id: string }>(
            await m.query(
              `UPDATE threads t SET pending_ref = $2
                WHERE t.id = $1 AND EXISTS (SELECT 1 FROM messenger_profiles mp WHERE mp.page_id = t.page_id AND mp.settings ? 'get_started')
                RETURNING t.id`,
              [thread.id, ref],
            ),
          )
        : [];
      if (held) return { result: undefined, events: [], deliveries: [] };
      return { result: undefined, events: [], deliveries: await this.recordReferral(m, thread, ref) };
    }, thread.user_id);
  }

  // The held ref (see openedWithRef), taken under the thread's lock and sent as messaging_referrals.
  private async releasePendingRef(thread: ThreadFacts): Promise<void> {
    await this.run(async (m) => {
      await this.lockThread(m, thread.id);
      const [row] = await m.query(`SELECT pending_ref FROM threads WHERE id = $1`, [thread.id]);
      if (!row?.pending_ref) return { result: undefined, events: [], deliveries: [] };
      await m.query(`UPDATE threads SET pending_ref = NULL WHERE id = $1`, [thread.id]);
      return { result: undefined, events: [], deliveries: await this.recordReferral(m, thread, row.pending_ref) };
    }, thread.user_id);
  }

  private recordReferral(m: EntityManager, thread: ThreadFacts, ref: string): Promise<string[]> {
    return this.webhooks.recordPageEvent(m, {
      pageId: thread.page_id,
      field: 'messaging_referrals',
      threadKey: thread.psid,
      messaging: referralItem({ psid: thread.psid, pageId: thread.page_id }, ref, Date.now()),
    });
  }

  // Account linking (src/account-linking) changes a thread's link: `apply` writes the change under the thread's row
  // lock and says whether anything changed; if it did, the same transaction tells the person's devices
  // (`account_linking`) and the Page's apps (messaging_account_linking). Answers whether it changed.
  async recordAccountLinking(
    thread: ThreadFacts,
    change: { status: 'linked' | 'unlinked'; authorizationCode: string | null; by: 'person' | 'page' },
    apply: (m: EntityManager) => Promise<boolean>,
  ): Promise<boolean> {
    // While the person blocks the Page: they may Log Out, not Log In, and the Page reaches them with nothing, an
    // unlink included (Graph's 551, as for a send).
    const refuseBlocked = change.by === 'page' ? MessagingErrors.pageBlocked : change.status === 'linked' ? MessagingErrors.threadBlocked : undefined;
    return this.run(async (m) => {
      const lastSeq = await this.lockThread(m, thread.id, refuseBlocked);
      if (!(await apply(m))) return { result: false, events: [], deliveries: [] };
      const event = await this.appendEvent(m, thread.user_id, {
        type: 'account_linking',
        status: change.status,
        by: change.by,
        thread_id: thread.id,
        page_id: thread.page_id,
        seq: lastSeq,
      });
      const deliveries = await this.webhooks.recordPageEvent(m, {
        pageId: thread.page_id,
        field: 'messaging_account_linking',
        threadKey: thread.psid,
        messaging: accountLinkingItem({ psid: thread.psid, pageId: thread.page_id }, change.status, change.authorizationCode, Date.now()),
      });
      return { result: true, events: [event], deliveries };
    }, thread.user_id);
  }

  // A change another module makes on the person's side of a thread (marketing messages' opt-in, stop, resume): under
  // the thread's row lock (so two taps at once take turns), `apply` writes it and says what to tell: the person's
  // devices an event, the Page's apps a webhook item, both in the change's transaction (the outbox). Nothing to
  // tell, nothing is appended.
  // Refused (409 THREAD.BLOCKED, read under the lock) while the person blocks the Page, unless `whileBlocked`: what
  // only takes something back (stopping marketing messages) or is about the Page (a report).
  async recordThreadChange<T>(
    thread: ThreadFacts,
    apply: (
      m: EntityManager,
      lastSeq: number,
    ) => Promise<{ result: T; event?: StoredEvent; webhook?: { field: PageEventInput['field']; messaging: Record<string, unknown> } }>,
    opts: { whileBlocked?: boolean } = {},
  ): Promise<T> {
    return this.run(async (m) => {
      const lastSeq = await this.lockThread(m, thread.id, opts.whileBlocked ? undefined : MessagingErrors.threadBlocked);
      const change = await apply(m, lastSeq);
      const events = change.event ? [await this.appendEvent(m, thread.user_id, change.event)] : [];
      const deliveries = change.webhook
        ? await this.webhooks.recordPageEvent(m, { pageId: thread.page_id, field: change.webhook.field, threadKey: thread.psid, messaging: change.webhook.messaging })
        : [];
      return { result: change.result, events, deliveries };
    }, thread.user_id);
  }

  // --- the Page's side (Send API) ---

  // See PageSendOptions for what the options do.
  async sendPageMessage(
    thread: ThreadFacts,
    appId: string | null,
    content: MessageContent,
    opts: PageSendOptions = {},
  ): Promise<{ mid: string; seq: number; timestamp: number }> {
    const { within, personLastAtFrom = null, clientMessageId = null } = opts;
    const draft = this.draft(thread, { sender: 'page', appId, kind: 'message', content: content as Record<string, unknown>, clientMessageId });
    const outbox: PageEventInput = {
      pageId: thread.page_id,
      field: 'message_echoes',
      threadKey: thread.psid,
      messaging: echoItem({ psid: thread.psid, pageId: thread.page_id }, draft, (a) => this.media.forWebhook(a)),
    };
    const append = async (q: SqlQuery) => {
      const appended = await this.appendMessage(q, thread, draft, 'message', (a) => this.media.forPerson(a), outbox, personLastAtFrom);
      // The thread is the Send API's own lookup: nothing written means its page was suspended (or the thread
      // removed) since.
      if (!appended) throw notFound('PAGE.NOT_FOUND', `No page ${thread.page_id}`);
      return appended;
    };
    const appended = within
      ? await this.db.transaction(async (m) => {
          const a = await append((text, params) => m.query(text, params));
          await within(m, { mid: a.row.mid, seq: Number(a.row.seq) });
          return a;
        })
      : await append(this.sql.query.bind(this.sql));
    await this.announce(thread.user_id, [appended.event], appended.deliveries);
    return { mid: appended.row.mid, seq: Number(appended.row.seq), timestamp: Number(appended.row.timestamp) };
  }

  // A bot's mark_seen: the person sees "Seen" on everything they sent so far.
  async pageMarkSeen(thread: ThreadRow, appId: string | null): Promise<void> {
    await this.run(async (m) => {
      const now = Date.now();
      const [t] = rowsOf<ThreadRow>(
        await m.query(
          `UPDATE threads SET page_read_watermark = GREATEST(page_read_watermark, $2), page_read_seq = last_seq
            WHERE id = $1 AND blocked_at IS NULL RETURNING *`,
          [thread.id, now],
        ),
      );
      // The caller found the thread: no row means the person blocked the Page (the person sees no "Seen").
      if (!t) throw MessagingErrors.pageBlocked();
      await this.requireControl(m, thread.id, appId);
      const event = await this.appendEvent(m, thread.user_id, {
        type: 'read',
        by: 'page',
        watermark: Number(t.page_read_watermark),
        thread_id: t.id,
        page_id: t.page_id,
        seq: Number(t.page_read_seq),
      });
      return { result: undefined, events: [event], deliveries: [] };
    }, thread.user_id);
  }

  // A bot's react / unreact: the Page's one reaction to a message of the thread. False: no such message here.
  async setPageReaction(thread: ThreadRow, mid: string, emoji: string | null, appId: string | null): Promise<boolean> {
    const { found } = await this.run(async (m) => {
      // The thread's lock, and whether the person blocked the Page, in one read.
      const [t] = await m.query(`SELECT blocked_at FROM threads WHERE id = $1 FOR UPDATE`, [thread.id]);
      if (t?.blocked_at != null) throw MessagingErrors.pageBlocked();
      await this.requireControl(m, thread.id, appId);
      return this.react(m, thread, 'page', mid, emoji);
    }, thread.user_id);
    return found;
  }

  // Handover protocol, under the thread's lock (the caller holds it): a page-side write by an app that doesn't
  // control the thread is refused (THREAD.NOT_CONTROLLER; the Send API answers 10/2018300). No app: the Page itself.
  private async requireControl(m: EntityManager, threadId: string, appId: string | null): Promise<void> {
    if (appId === null) return;
    const [row] = await m.query(`SELECT ${threadControllerSql('t.page_id', 't.owner_app_id')} AS controller FROM threads t WHERE t.id = $1`, [threadId]);
    if (row?.controller && row.controller !== appId) throw MessagingErrors.notThreadController();
  }

  // The Page's bot has the person's messages (webhook acknowledged, script run, or pulled past): the person sees
  // "Delivered" on everything up to the highest seq received. One statement for a whole batch; a thread whose
  // mark is already past gets no event, so a retried or duplicated delivery says nothing twice.
  async pageReceived(received: ReceivedMessage[]): Promise<void> {
    const params = [received.map((r) => r.mid), [...new Set(received.map((r) => r.pageId))]];
    const rows = await this.sql
      .query<{ user_id: string; cursor: string; payload: StoredEvent }>(PAGE_RECEIVED_SQL, params)
      // Two receipts over the same threads in one instant can still deadlock on the cursor rows: once more.
      .catch((err: { code?: string }) => {
        if (err.code === '40P01') return this.sql.query<{ user_id: string; cursor: string; payload: StoredEvent }>(PAGE_RECEIVED_SQL, params);
        throw err;
      });
    const byUser = new Map<string, PersonEvent[]>();
    for (const r of rows) {
      const events = byUser.get(r.user_id) ?? [];
      events.push({ ...r.payload, cursor: Number(r.cursor) } as PersonEvent);
      byUser.set(r.user_id, events);
    }
    await Promise.all([...byUser].map(([userId, events]) => this.hub.publish(userId, events)));
  }

  // Typing is ephemeral: pushed, never stored. Clients stop showing it at expires_at, on typing_off or a message.
  async pageTyping(thread: ThreadRow, on: boolean, persona?: { id: string; name: string; media_id: string }): Promise<void> {
    const event: TypingEvent = {
      type: 'typing',
      on,
      thread_id: thread.id,
      page_id: thread.page_id,
      seq: Number(thread.last_seq),
      ...(on ? { expires_at: Date.now() + this.config.env.TYPING_TIMEOUT_MS } : {}),
      ...(on && persona ? { persona: presentPersona(persona, (a) => this.media.forPerson(a)) } : {}),
    };
    await this.hub.publish(thread.user_id, [event]);
  }

  // --- the person's event log ---

  // Where a client's replay starts. Without a cursor: the head. With one the log no longer reaches (pruned past
  // retention, or a cursor this person never had): the head too, with reset = true, so the client reloads its
  // threads and history over REST instead of silently missing events.
  async resumePoint(userId: string, after: number | undefined): Promise<{ start: number; reset: boolean }> {
    const [row] = await this.sql.query<{ head: string | null; oldest: string | null }>(
      `SELECT (SELECT last_cursor FROM user_event_cursors WHERE user_id = $1) AS head,
              (SELECT cursor FROM user_events WHERE user_id = $1 ORDER BY cursor LIMIT 1) AS oldest`,
      [userId],
    );
    const head = row?.head ? Number(row.head) : 0;
    if (after === undefined) return { start: head, reset: false };
    const oldest = row?.oldest ? Number(row.oldest) : head + 1;
    if (after > head || (after < head && oldest > after + 1)) return { start: head, reset: true };
    return { start: after, reset: false };
  }

  async eventsAfter(userId: string, after: number, limit: number): Promise<PersonEvent[]> {
    const rows: { cursor: string; payload: StoredEvent }[] = await this.db.query(
      `SELECT cursor, payload FROM user_events WHERE user_id = $1 AND cursor > $2 ORDER BY cursor LIMIT $3`,
      [userId, after, limit],
    );
    return rows.map((r) => ({ ...r.payload, cursor: Number(r.cursor) }) as PersonEvent);
  }

  // --- building blocks ---

  // Commits, then tells the person's sockets and the webhook queue.
  private async run<T>(work: (m: EntityManager) => Promise<Outcome<T>>, userId: string): Promise<T> {
    const out = await this.db.transaction(work);
    await this.announce(userId, out.events, out.deliveries);
    return out.result;
  }

  // After commit. Neither failing loses anything: the events are in user_events (read on the next gap or
  // reconnect), the deliveries are found by the reconciler.
  private async announce(userId: string, events: PersonEvent[], deliveries: string[]): Promise<void> {
    await Promise.all([
      this.hub.publish(userId, events),
      deliveries.length
        ? this.webhooks.dispatch(deliveries).catch((err: Error) => this.logger.warn(`dispatch failed: ${err.message}`))
        : undefined,
    ]);
  }

  private draft(
    thread: ThreadFacts,
    msg: { sender: 'person' | 'page'; appId: string | null; kind: 'message' | 'postback'; content: Record<string, unknown>; clientMessageId: string | null },
  ): MessageRow {
    return { mid: newMid(), seq: 0, sender: msg.sender, app_id: msg.appId, kind: msg.kind, timestamp: 0, content: msg.content, client_message_id: msg.clientMessageId };
  }

  // One statement, atomic on its own: take the thread's next seq (its row lock, held to commit, orders the
  // thread), insert the message, take the person's next cursor and store their event, and write the webhook
  // outbox for every subscribed app. Round trips are what this path costs.
  // A person's message also takes their conversation out of the Page Inbox's done folder (page_done_seq), in the
  // same row update: the folders are read off indexes on that column. Those indexes hold activity_minute, not
  // last_timestamp, so the update is HOT (no index entry) unless the minute turns or the thread leaves done: an
  // unchanged value, NULL included, does not count as a change.
  // Null when nothing was written: the thread is not the person's, the person blocked messages from the Page (either
  // side's message: checked here, in the statement, so no send pays a lookup for it), its page is suspended, or the
  // (thread, sender, client_message_id) exists already. A concurrent duplicate fails on the unique index instead.
  // Callers work out which on that failure path.
  private async appendMessage(
    q: SqlQuery,
    thread: ThreadFacts,
    draft: MessageRow,
    eventType: 'message' | 'echo',
    present: ((a: unknown[]) => unknown[]) | undefined,
    outbox: PageEventInput,
    personLastAtFrom: number | null = null,
  ): Promise<{ row: MessageRow; event: PersonEvent; deliveries: string[]; refPending: boolean } | null> {
    const thumbsFrom = draft.sender === 'page' && draft.app_id && draft.app_id !== PAGE_INBOX_APP_ID ? await this.thumbsApps(thread.page_id, q) : undefined;
    const event: StoredEvent = { type: eventType, thread_id: thread.id, page_id: thread.page_id, seq: 0, message: toMessageView(draft, present, { thumbsFrom }) };
    const params: unknown[] = [
      thread.id, Date.now(), draft.mid, draft.sender, draft.app_id, draft.kind, JSON.stringify(draft.content), draft.client_message_id,
      thread.user_id, eventType, JSON.stringify(event), personLastAtFrom, draft.sender === 'page' ? draft.app_id : null,
    ];
    const ob = this.webhooks.pageEventCtes(params, outbox, 'msg', '(SELECT t.owner_app_id FROM t)');
    const rows = await q<{ seq: string; timestamp: string; cursor: string; deliveries: { id: string; status: string; target: string }[]; ref_pending: boolean }>(
        `WITH t AS (
           UPDATE threads th SET last_seq = th.last_seq + 1, last_timestamp = GREATEST(th.last_timestamp, $2),
                  activity_minute = GREATEST(th.last_timestamp, $2) / ${ACTIVITY_MINUTE_MS},
                  person_last_at = CASE WHEN $4 = 'person' THEN GREATEST(th.last_timestamp, $2) ELSE th.person_last_at END,
                  page_done_seq = CASE WHEN $4 = 'person' THEN NULL ELSE th.page_done_seq END
            WHERE th.id = $1 AND th.user_id = $9 AND th.blocked_at IS NULL
              AND EXISTS (SELECT 1 FROM pages p WHERE p.id = th.page_id AND p.suspended_at IS NULL)
              AND ($12::bigint IS NULL OR th.person_last_at >= $12)
              AND ($13::varchar IS NULL OR COALESCE(${threadControllerSql('th.page_id', 'th.owner_app_id')}, $13) = $13)
              AND ($8::varchar IS NULL OR NOT EXISTS (
                SELECT 1 FROM messages x WHERE x.thread_id = $1 AND x.sender = $4 AND x.client_message_id = $8))
            RETURNING th.last_seq, th.last_timestamp, th.owner_app_id, th.pending_ref
         ), msg AS (
           INSERT INTO messages (mid, thread_id, seq, sender, app_id, kind, timestamp, content, client_message_id)
           SELECT $3, $1, t.last_seq, $4, $5, $6, t.last_timestamp, $7::jsonb, $8 FROM t
           RETURNING seq, timestamp
         ), c AS (
           INSERT INTO user_event_cursors (user_id, last_cursor) SELECT $9, 1 FROM msg
           ON CONFLICT (user_id) DO UPDATE SET last_cursor = user_event_cursors.last_cursor + 1
           RETURNING last_cursor
         ), e AS (
           INSERT INTO user_events (user_id, cursor, type, payload)
           SELECT $9, c.last_cursor, $10,
                  jsonb_set(jsonb_set(jsonb_set($11::jsonb, '{seq}', to_jsonb(msg.seq)),
                    '{message,seq}', to_jsonb(msg.seq)), '{message,timestamp}', to_jsonb(msg.timestamp))
             FROM c, msg
           RETURNING cursor
         ), ${ob.ctes}
         SELECT msg.seq, msg.timestamp, e.cursor, ${ob.deliveries} AS deliveries,
                (SELECT t.pending_ref IS NOT NULL FROM t) AS ref_pending FROM msg, e`,
        params,
      );
    if (!rows[0]) return null;
    const row: MessageRow = { ...draft, seq: rows[0].seq, timestamp: rows[0].timestamp };
    const view = toMessageView(row, present, { thumbsFrom });
    return {
      row,
      event: { ...event, seq: view.seq, message: view, cursor: Number(rows[0].cursor) } as PersonEvent,
      deliveries: this.webhooks.recorded(rows[0].deliveries),
      refPending: rows[0].ref_pending,
    };
  }

  // Locks the thread row first, as every write of the thread does (lock order: thread, cursor, outbox), so the
  // event lands in the thread's order; returns its last seq.
  // The thread's row lock and its last seq. `refuseBlocked`: what to throw if the person blocked the Page, read under
  // the lock, since a block that committed after the caller's own check (writableThread, another device's tap) must
  // still stop a write the block forbids; left out for what stays open while blocked.
  private async lockThread(m: EntityManager, threadId: string, refuseBlocked?: () => Error): Promise<number> {
    const [t] = await m.query(`SELECT last_seq, blocked_at FROM threads WHERE id = $1 FOR UPDATE`, [threadId]);
    if (refuseBlocked && t.blocked_at != null) throw refuseBlocked();
    return Number(t.last_seq);
  }

  // One side's reaction to a message of the thread. The person's own reactions go to the Page's bots
  // (message_reactions); the Page's are not echoed, as on Messenger. Both reach the person's devices.
  private async react(
    m: EntityManager,
    thread: ThreadFacts,
    by: 'person' | 'page',
    mid: string,
    emoji: string | null,
  ): Promise<Outcome<{ found: boolean; reaction: string | null }>> {
    // The Page's side read the block with its own lock already (setPageReaction).
    const lastSeq = await this.lockThread(m, thread.id, by === 'person' ? MessagingErrors.threadBlocked : undefined);
    const [row] = await m.query(`SELECT reactions->>$3 AS current FROM messages WHERE thread_id = $1 AND mid = $2`, [thread.id, mid, by]);
    if (!row) return { result: { found: false, reaction: null }, events: [], deliveries: [] };
    const current: string | null = row.current ?? null;
    if (current === emoji) return { result: { found: true, reaction: current }, events: [], deliveries: [] };
    await m.query(
      `UPDATE messages SET reactions = CASE WHEN $3::text IS NULL THEN reactions - $2::text
                                            ELSE jsonb_set(reactions, ARRAY[$2::text], to_jsonb($3::text)) END
        WHERE mid = $1`,
      [mid, by, emoji],
    );
    const event = await this.appendEvent(m, thread.user_id, { type: 'reaction', by, mid, emoji, thread_id: thread.id, page_id: thread.page_id, seq: lastSeq });
    const deliveries =
      by === 'person'
        ? await this.webhooks.recordPageEvent(m, {
            pageId: thread.page_id,
            field: 'message_reactions',
            threadKey: thread.psid,
            messaging: reactionItem(
              { psid: thread.psid, pageId: thread.page_id },
              // An unreact names the reaction it removes.
              { mid, emoji: (emoji ?? current)!, action: emoji === null ? 'unreact' : 'react' },
              Date.now(),
            ),
          })
        : [];
    return { result: { found: true, reaction: emoji }, events: [event], deliveries };
  }

  // The person's own thread, on a Page that is not suspended and whose messages they have not blocked: where they
  // may act. `whileBlocked`: what only takes something back from the Page (Log Out, stopping marketing messages)
  // stays open while blocked.
  async writableThread(userId: string, threadId: string, opts: { whileBlocked?: boolean } = {}): Promise<ThreadRow> {
    const thread = await this.findOwnThread(userId, threadId);
    if (thread.page_suspended_at) throw notFound('PAGE.NOT_FOUND', `No page ${thread.page_id}`);
    if (thread.blocked_at != null && !opts.whileBlocked) throw MessagingErrors.threadBlocked();
    return thread;
  }

  private async appendEvent(m: EntityManager, userId: string, event: StoredEvent): Promise<PersonEvent> {
    const [c]: { cursor: string }[] = await m.query(
      `WITH c AS (
         INSERT INTO user_event_cursors (user_id, last_cursor) VALUES ($1, 1)
         ON CONFLICT (user_id) DO UPDATE SET last_cursor = user_event_cursors.last_cursor + 1
         RETURNING last_cursor
       )
       INSERT INTO user_events (user_id, cursor, type, payload) SELECT $1, c.last_cursor, $2, $3 FROM c RETURNING cursor`,
      [userId, event.type, JSON.stringify(event)],
    );
    return { ...event, cursor: Number(c.cursor) } as PersonEvent;
  }
}


export type { MessageView };
