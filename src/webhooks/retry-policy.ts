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
export function retryAfterMs(
  header: string | string[] | undefined,
  now = Date.now(),
  capMs = 3600_000,
): number | null {
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
