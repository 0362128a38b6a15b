import {
  failureStage,
  isSuccess,
  nextRamp,
  parseSchedule,
  retryAfterMs,
  retryDelayMs,
  splitBatch,
} from './retry-policy';

describe('retry policy', () => {
  const schedule = parseSchedule('0,5,30,120');

  it('follows the schedule with at most 20% jitter, repeating the last step', () => {
    expect(retryDelayMs(schedule, 1, () => 0.5)).toBe(5000);
    expect(retryDelayMs(schedule, 1, () => 0)).toBe(4000);
    expect(retryDelayMs(schedule, 1, () => 0.9999)).toBeLessThanOrEqual(6000);
    expect(retryDelayMs(schedule, 2, () => 0.5)).toBe(30_000);
    expect(retryDelayMs(schedule, 9, () => 0.5)).toBe(120_000);
  });

  it('honours Retry-After in seconds or as a date, bounded to an hour', () => {
    expect(retryAfterMs('7')).toBe(7000);
    expect(retryAfterMs('999999')).toBe(3600_000);
    expect(retryAfterMs(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8000);
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(undefined)).toBeNull();
  });

  it('counts only 2xx as success; redirects fail', () => {
    expect([200, 204, 299].every(isSuccess)).toBe(true);
    expect([301, 302, 304, 400, 410, 500].some(isSuccess)).toBe(false);
  });

  it('caps Retry-After at the configured bound', () => {
    expect(retryAfterMs('120', Date.now(), 60_000)).toBe(60_000);
  });

  it('ramps the in-flight cap 1, 2, 4, … up to the full cap', () => {
    expect(nextRamp(1, 8)).toBe(2);
    expect(nextRamp(2, 8)).toBe(4);
    expect(nextRamp(4, 8)).toBeNull();
    expect(nextRamp(null, 8)).toBeNull();
  });

  it('warns, then pauses, after sustained failure', () => {
    expect(failureStage(10_000, 900, 3600)).toBe('ok');
    expect(failureStage(900_000, 900, 3600)).toBe('warning');
    expect(failureStage(3600_000, 900, 3600)).toBe('paused');
  });
});

describe('splitBatch', () => {
  const batch = (spec: string) => spec.split(' ').map((t, i) => ({ thread_key: t, seq: i }));
  const keys = (half: { thread_key: string; seq: number }[]) => half.map((m) => `${m.thread_key}${m.seq}`).join(' ');

  it('gives each half whole threads when there are several, about half the events each', () => {
    const [a, b] = splitBatch(batch('x x y z z z w'));
    expect([keys(a), keys(b)]).toEqual(['x0 x1 y2 w6', 'z3 z4 z5']);
  });

  it("cuts a single thread's events in two, the earlier first", () => {
    expect(splitBatch(batch('x x x x x')).map(keys)).toEqual(['x0 x1', 'x2 x3 x4']);
    expect(splitBatch(batch('x x')).map(keys)).toEqual(['x0', 'x1']);
  });

  it('never leaves a half empty, and keeps every event once, each thread in order', () => {
    for (const spec of ['x y', 'x x x x x x x x y', 'x y y y y y y y y', 'a b c d e f', 'a a b b a b']) {
      const [a, b] = splitBatch(batch(spec));
      expect(a.length && b.length).toBeTruthy();
      expect([...a, ...b].map((m) => m.seq).sort((p, q) => p - q)).toEqual(batch(spec).map((m) => m.seq));
      for (const half of [a, b])
        expect(half.map((m) => m.seq)).toEqual([...half.map((m) => m.seq)].sort((p, q) => p - q));
    }
  });
});
