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

// Retry-After is honoured when it asks for more than we would wait, up to an hour.
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms) || ms <= 0) return null;
  return Math.min(ms, 3600_000);
}

export const isSuccess = (status: number) => status >= 200 && status < 300;
