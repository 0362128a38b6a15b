import { describe, expect, it } from '@jest/globals';
import type { Delivery, DeliveryPage } from '../api';
import { deliveryQuery, EMPTY_FILTER, filterError, localToIso, statusPill, withPage } from './deliveries';

const d = (id: string): Delivery => ({
  id,
  status: 'delivered',
  field: 'messages',
  page_id: '1',
  attempts: 1,
  created_at: '2026-01-01T00:00:00.000Z',
  delivered_at: null,
  next_attempt_at: null,
  last_error: null,
});
const page = (ids: string[], next: string | null): DeliveryPage => ({
  data: ids.map(d),
  paging: { next_cursor: next },
});

describe('the delivery log query', () => {
  it('reads datetime-local values as local time', () => {
    expect(localToIso('2026-01-02T15:04')).toBe(new Date(2026, 0, 2, 15, 4).toISOString());
    expect(localToIso('')).toBeUndefined();
    expect(localToIso('not a date')).toBeUndefined();
  });

  it('sends only the filters that are set, and the cursor of the next page', () => {
    expect(deliveryQuery(EMPTY_FILTER)).toEqual({
      status: undefined,
      since: undefined,
      until: undefined,
      limit: 50,
      cursor: undefined,
    });
    const f = { status: 'failed', since: '2026-01-02T00:00', until: '2026-01-03T00:00', limit: 10 };
    expect(deliveryQuery(f, '812')).toEqual({
      status: 'failed',
      since: new Date(2026, 0, 2).toISOString(),
      until: new Date(2026, 0, 3).toISOString(),
      limit: 10,
      cursor: '812',
    });
  });

  it('refuses a range that ends before it starts', () => {
    expect(filterError({ ...EMPTY_FILTER, since: '2026-01-03T00:00', until: '2026-01-02T00:00' })).toMatch(/before/);
    expect(filterError({ ...EMPTY_FILTER, since: '2026-01-02T00:00', until: '2026-01-02T00:00' })).toMatch(/before/);
    expect(filterError({ ...EMPTY_FILTER, since: '2026-01-02T00:00', until: '2026-01-03T00:00' })).toBeNull();
    expect(filterError({ ...EMPTY_FILTER, since: '2026-01-02T00:00' })).toBeNull();
  });
});

describe('paging', () => {
  it('a first page replaces, "Load more" appends without repeating a row', () => {
    const first = withPage(null, page(['9', '8', '7'], '7'), false);
    expect(first).toEqual({ rows: page(['9', '8', '7'], null).data, next: '7' });
    // A row that slid over the page boundary meanwhile is listed once.
    const more = withPage(first, page(['7', '6', '5'], null), true);
    expect(more.rows.map((r) => r.id)).toEqual(['9', '8', '7', '6', '5']);
    expect(more.next).toBeNull();
    // A refresh or a new filter starts over.
    expect(withPage(more, page(['10'], '10'), false)).toEqual({ rows: [d('10')], next: '10' });
  });

  it('colours statuses', () => {
    expect(statusPill('delivered')).toBe('good');
    expect(statusPill('failed')).toBe('bad');
    expect(statusPill('pending')).toBe('warn');
    expect(statusPill('in_flight')).toBe('warn');
    expect(statusPill('pull')).toBe('');
  });
});
