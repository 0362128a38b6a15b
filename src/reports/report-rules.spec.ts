import { decodeReportCursor, encodeReportCursor, statusAfter } from './report-rules';

describe('report rules', () => {
  it('round-trips a cursor and refuses anything it did not hand out', () => {
    const c = { createdUs: '1796539743704123', id: '512345678901234' };
    expect(decodeReportCursor(encodeReportCursor(c))).toEqual(c);
    for (const bad of ['', '1', '.1', '1.', 'a.1', '1.b', '1.2.3', `${'9'.repeat(18)}.1`, `1.${'9'.repeat(21)}`, ' 1.2', '-1.2']) {
      expect([bad, decodeReportCursor(bad)]).toEqual([bad, null]);
    }
  });

  it('closes a dismissed report as dismissed and an enforced one as resolved', () => {
    expect(['dismiss', 'warn', 'suspend'].map((a) => statusAfter(a as never))).toEqual(['dismissed', 'resolved', 'resolved']);
  });
});
