import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { numericId } from '../common/crypto/tokens';
import { rowsOf } from '../database/query-rows';
import { MessagingService, ThreadFacts } from '../messaging/messaging.service';
import { PagesService } from '../pages/pages.service';
import { ReportsErrors } from './reports.errors';
import { decodeReportCursor, encodeReportCursor, statusAfter } from './report-rules';
import type { ReportAction, ReportReason, ReportStatus } from './report-rules';

interface ReportRow {
  id: string;
  page_id: string;
  thread_id: string;
  reporter_user_id: string;
  reason: ReportReason;
  details: string | null;
  reported_seq: string;
  status: ReportStatus;
  created_at: Date;
  updated_at: Date;
  resolved_at: Date | null;
  resolution: ReportAction | null;
  resolution_note: string | null;
  resolved_by: string | null;
  created_us: string;
}
type AdminRow = ReportRow & { page_name: string; reporter_name: string | null };

// The person's own view: what they said and where it stands, nothing of the operators' work.
export interface ReportView {
  id: string;
  reason: ReportReason;
  details: string | null;
  status: ReportStatus;
  created_at: string;
  updated_at: string;
}

export interface AdminReportView extends ReportView {
  page: { id: string; name: string };
  thread_id: string;
  reporter: { id: string; name: string };
  reported_seq: number;
  resolved_at: string | null;
  resolution: ReportAction | null;
  resolution_note: string | null;
  resolved_by: string | null;
}

const personView = (r: ReportRow): ReportView => ({
  id: r.id,
  reason: r.reason,
  details: r.details,
  status: r.status,
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

const adminView = (r: AdminRow): AdminReportView => ({
  ...personView(r),
  page: { id: r.page_id, name: r.page_name },
  thread_id: r.thread_id,
  reporter: { id: r.reporter_user_id, name: r.reporter_name ?? '' },
  reported_seq: Number(r.reported_seq),
  resolved_at: r.resolved_at ? new Date(r.resolved_at).toISOString() : null,
  resolution: r.resolution,
  resolution_note: r.resolution_note,
  resolved_by: r.resolved_by,
});

const ADMIN_SELECT = `SELECT r.*, (extract(epoch FROM r.created_at) * 1000000)::bigint AS created_us,
       (SELECT p.name FROM pages p WHERE p.id = r.page_id) AS page_name,
       (SELECT u.name FROM users u WHERE u.id = r.reporter_user_id) AS reporter_name
  FROM page_reports r`;

// Why the closing statement found the report no longer open (another operator, or a retry, closed it first).
class ReportClosedMeanwhile extends Error {}

// People report their conversations with Pages (Messenger's "Report"); the operators read the reports with the
// conversation and dismiss them or warn or suspend the Page. The Page's side learns nothing of a report: no
// webhook, no field in any of its views.
@Injectable()
export class ReportsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly messaging: MessagingService,
    private readonly pages: PagesService,
  ) {}

  // --- the person ---

  // One open report per thread: reporting again while it is open updates that report (the new reason, details when
  // given, the snapshot up to the thread's last seq now) and answers it, so a retry changes nothing but updated_at.
  // `block`: the block is written in the same transaction (messaging's block path), or neither is.
  async report(
    userId: string,
    threadId: string,
    input: { reason: ReportReason; details?: string; block?: boolean },
  ): Promise<{ report: ReportView; created: boolean; blocked: boolean }> {
    const thread = await this.messaging.findOwnThread(userId, threadId);
    // A tap like the others: the person's send bucket bounds how often.
    await this.messaging.spendPersonSend(userId);
    const details = input.details?.trim() ? input.details : null;
    const write = (m: EntityManager, lastSeq: number) => this.writeOpen(m, thread, input.reason, details, lastSeq);
    const out = input.block
      ? (await this.messaging.blockWith(thread, true, write)).result
      : await this.messaging.recordThreadChange(thread, async (m, lastSeq) => ({ result: await write(m, lastSeq) }), { whileBlocked: true });
    return { report: personView(out.row), created: out.created, blocked: out.blocked };
  }

  // Under the thread's row lock (the caller's), so two reports of one thread take turns: the open report updated,
  // or a new one. The unique partial index on open reports is the backstop.
  private async writeOpen(m: EntityManager, thread: ThreadFacts, reason: ReportReason, details: string | null, lastSeq: number) {
    const [row] = rowsOf<ReportRow & { created: boolean; blocked: boolean }>(
      await m.query(
        `WITH upd AS (
           UPDATE page_reports SET reason = $4, details = COALESCE($5, details), reported_seq = $6, updated_at = now()
            WHERE thread_id = $2 AND status = 'open'
           RETURNING *, false AS created
         ), ins AS (
           INSERT INTO page_reports (id, page_id, thread_id, reporter_user_id, reason, details, reported_seq)
           SELECT $1, $3, $2, $7, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM upd)
           RETURNING *, true AS created
         )
         SELECT x.*, (SELECT t.blocked_at IS NOT NULL FROM threads t WHERE t.id = $2) AS blocked
           FROM (SELECT * FROM upd UNION ALL SELECT * FROM ins) x`,
        [numericId(), thread.id, thread.page_id, reason, details, lastSeq, thread.user_id],
      ),
    );
    return { row, created: row.created, blocked: row.blocked };
  }

  // --- the operators ---

  // Newest first, a page at a time (`cursor`: the previous page's next_cursor), read off the status index (or the
  // Page's, with `pageId`).
  async list(q: { status: ReportStatus; pageId?: string; cursor?: string; limit: number }) {
    const params: unknown[] = [q.status];
    const where = ['r.status = $1'];
    if (q.pageId !== undefined) where.push(`r.page_id = $${params.push(q.pageId)}`);
    if (q.cursor !== undefined) {
      const c = decodeReportCursor(q.cursor);
      if (!c) throw ReportsErrors.badCursor();
      where.push(
        `(r.created_at, r.id) < ('epoch'::timestamptz + $${params.push(c.createdUs)}::bigint * interval '1 microsecond', $${params.push(c.id)}::varchar)`,
      );
    }
    const rows = await this.db.query<AdminRow[]>(
      `${ADMIN_SELECT} WHERE ${where.join(' AND ')} ORDER BY r.created_at DESC, r.id DESC LIMIT $${params.push(q.limit + 1)}`,
      params,
    );
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      data: page.map(adminView),
      paging: { next_cursor: rows.length > q.limit ? encodeReportCursor({ createdUs: last.created_us, id: last.id }) : null },
    };
  }

  // The report with the conversation's last `messages` messages up to what was reported (messaging's reading, as
  // the Page's people see them: a message's seq is gap-free in its thread, so they are the seqs just below it).
  async detail(id: string, messages: number, origin?: string) {
    const report = await this.find(id);
    const upTo = Number(report.reported_seq);
    const from = Math.max(0, upTo - messages);
    const { data } = await this.messaging.listPageThreadMessages(report.page_id, report.thread_id, from, upTo - from, origin);
    return { ...adminView(report), messages: data };
  }

  // dismiss: the report alone is closed. warn, suspend: what POST /admin/pages/{id}/warn|suspend do (the Page's
  // apps get messaging_policy_enforcement), with the report closed in the same transaction. A retry of the action
  // that closed it answers the report as it is; another action is a 409.
  async resolve(id: string, action: ReportAction, opts: { note?: string; reason?: string; operator?: string }) {
    const report = await this.find(id);
    if (report.status !== 'open') return { report: this.closedAs(report, action), enforcement: null };
    const close = async (m: EntityManager) => {
      const rows = rowsOf<ReportRow>(
        await m.query(
          `UPDATE page_reports SET status = $2, resolution = $3, resolution_note = $4, resolved_by = $5, resolved_at = now()
            WHERE id = $1 AND status = 'open' RETURNING id`,
          [id, statusAfter(action), action, opts.note ?? null, opts.operator ?? 'admin'],
        ),
      );
      if (!rows.length) throw new ReportClosedMeanwhile();
    };
    let enforcement: { id: string; suspended: boolean; changed: boolean } | null = null;
    try {
      if (action === 'dismiss') {
        await this.db.transaction(close);
      } else {
        const { page, changed } = await this.pages.enforcePolicy(report.page_id, action === 'warn' ? 'warning' : 'block', opts.reason, close);
        enforcement = { id: page.id, suspended: Boolean(page.suspendedAt), changed };
      }
    } catch (err) {
      if (!(err instanceof ReportClosedMeanwhile)) throw err;
      return { report: this.closedAs(await this.find(id), action), enforcement: null };
    }
    return { report: adminView(await this.find(id)), enforcement };
  }

  private closedAs(report: AdminRow, action: ReportAction): AdminReportView {
    if (report.resolution !== action) throw ReportsErrors.closed(report.status, report.resolution);
    return adminView(report);
  }

  private async find(id: string): Promise<AdminRow> {
    const [row] = /^\d{1,20}$/.test(id) ? await this.db.query<AdminRow[]>(`${ADMIN_SELECT} WHERE r.id = $1`, [id]) : [];
    if (!row) throw ReportsErrors.notFound(id);
    return row;
  }

  // Each Page's open reports (absent: none), off the Page's index.
  async openCounts(pageIds: string[]): Promise<Map<string, number>> {
    if (!pageIds.length) return new Map();
    const rows = await this.db.query<{ page_id: string; n: number }[]>(
      `SELECT page_id, count(*)::int AS n FROM page_reports WHERE page_id = ANY($1::varchar[]) AND status = 'open' GROUP BY page_id`,
      [pageIds],
    );
    return new Map(rows.map((r) => [r.page_id, r.n]));
  }
}
