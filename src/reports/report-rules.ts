// What a report may say and how the operators' list pages through reports: no Nest, so unit specs import it.

// Messenger's "Report" asks what is wrong; a small fixed set the operators can sort by.
export const REPORT_REASONS = ['spam', 'scam', 'inappropriate', 'harassment', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];

export const REPORT_STATUSES = ['open', 'resolved', 'dismissed'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

// What an operator does with a report: dismiss it, or warn or suspend the Page (and the report is resolved).
export const REPORT_ACTIONS = ['dismiss', 'warn', 'suspend'] as const;
export type ReportAction = (typeof REPORT_ACTIONS)[number];

export const REPORT_DETAILS_MAX = 1000;

export const statusAfter = (action: ReportAction): ReportStatus => (action === 'dismiss' ? 'dismissed' : 'resolved');

// The list's keyset position: a report's created_at in µs since the epoch and its id (ids are random, so the time
// orders and the id breaks ties). Opaque to callers.
export interface ReportCursor {
  createdUs: string;
  id: string;
}

export function encodeReportCursor(c: ReportCursor): string {
  return `${c.createdUs}.${c.id}`;
}

// Null: not a cursor this list handed out (the route answers 400).
export function decodeReportCursor(raw: string): ReportCursor | null {
  const m = /^(\d{1,17})\.(\d{1,20})$/.exec(raw);
  return m ? { createdUs: m[1], id: m[2] } : null;
}
