// The delivery log's query and paging (GET /apps/:id/deliveries: status, since, until, limit, cursor; newest
// first, paging.next_cursor while more are older). Pure, no DOM.
import type { Delivery, DeliveryPage } from '../api';

export interface LogFilter {
  status: string;
  // <input type="datetime-local"> values, the browser's local time ("2026-01-02T15:04"); '' for none.
  since: string;
  until: string;
  limit: number;
}

export const PAGE_SIZES = [10, 25, 50, 100];
export const EMPTY_FILTER: LogFilter = { status: '', since: '', until: '', limit: 50 };

// A datetime-local value read as local time, as ISO 8601 for the API; '' or nonsense gives undefined.
export function localToIso(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function deliveryQuery(f: LogFilter, cursor?: string | null): Record<string, string | number | undefined> {
  return {
    status: f.status || undefined,
    since: localToIso(f.since),
    until: localToIso(f.until),
    limit: f.limit,
    cursor: cursor ?? undefined,
  };
}

// The range is checked before asking: the API would refuse it (400) with a less helpful message.
export function filterError(f: LogFilter): string | null {
  const since = localToIso(f.since);
  const until = localToIso(f.until);
  if (since && until && since >= until) return '“From” must be before “to”.';
  return null;
}

export interface LogState {
  rows: Delivery[];
  next: string | null;
}

// A first page replaces the rows; a next page appends. Rows are keyed by id: one that moved between two page
// fetches (the log is newest first and keeps growing) is not listed twice.
export function withPage(state: LogState | null, page: DeliveryPage, append: boolean): LogState {
  if (!append || !state) return { rows: page.data, next: page.paging.next_cursor };
  const seen = new Set(state.rows.map((d) => d.id));
  return { rows: [...state.rows, ...page.data.filter((d) => !seen.has(d.id))], next: page.paging.next_cursor };
}

export const statusPill = (s: string) =>
  s === 'delivered' ? 'good' : s === 'failed' ? 'bad' : s === 'pending' || s === 'in_flight' ? 'warn' : '';
