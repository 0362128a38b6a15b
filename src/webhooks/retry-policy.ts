// Pure delivery policy: which outcomes count as success, and when to try again.

export function parseSchedule(spec: string): number[] {
  return spec.split(',').map((s) => Number(s.trim()));
}

// Seconds to wait after `failedAttempts` failures, with ±20% jitter so retries of a burst do not arrive together.
export function retryDelayMs(schedule: number[], failedAttempts: number, random: () => number = Math.random): number {
  const base = schedule[Math.min(failedAttempts, schedule.length - 1)] * 1000;
  const jitter = 1 + (random() * 0.4 - 0.2);
  return Math.round(base * jitter);
}

// Retry-After is honoured when it asks for more than we would wait, up to `capMs` (an hour by default).
export function retryAfterMs(header: string | string[] | undefined, now = Date.now(), capMs = 3600_000): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms) || ms <= 0) return null;
  return Math.min(ms, capMs);
}

export const isSuccess = (status: number) => status >= 200 && status < 300;

// Slow start after a resume: the in-flight cap doubles on each success until it reaches the configured one (null).
export function nextRamp(current: number | null, cap: number): number | null {
  if (current === null) return null;
  const next = current * 2;
  return next >= cap ? null : next;
}

// Sustained failure: how long the endpoint has failed decides between nothing, a warning and a pause.
export function failureStage(
  failingForMs: number,
  warnAfterS: number,
  pauseAfterS: number,
): 'ok' | 'warning' | 'paused' {
  if (failingForMs >= pauseAfterS * 1000) return 'paused';
  if (failingForMs >= warnAfterS * 1000) return 'warning';
  return 'ok';
}

// A batch the bot refused as too large (413) is sent again as two, each a prefix of its threads as the batch was:
// whole threads to each half when it holds several (the halves go independently), else the one thread's events
// cut in two (the second waits for the first, as later events of a thread always do). `members` is in seq order.
export function splitBatch<T extends { thread_key: string }>(members: T[]): [T[], T[]] {
  const threads = new Map<string, T[]>();
  for (const mb of members) {
    const list = threads.get(mb.thread_key);
    if (list) list.push(mb);
    else threads.set(mb.thread_key, [mb]);
  }
  if (threads.size === 1) {
    const cut = Math.floor(members.length / 2);
    return [members.slice(0, cut), members.slice(cut)];
  }
  const first: T[] = [];
  const second: T[] = [];
  for (const list of threads.values()) {
    const half = first.length && first.length + list.length / 2 > members.length / 2 ? second : first;
    half.push(...list);
  }
  // Never empty: a thread that would make the first half hold more than half goes to the second, and the last one
  // does whenever none went before it.
  return [first, second];
}
