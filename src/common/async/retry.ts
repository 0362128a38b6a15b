export interface RetryOptions {
  // Whether a failure is worth trying again (a dependency away), rather than a fault a retry would repeat.
  retryable: (err: unknown) => boolean;
  // Epoch ms after which no new try starts: the last error is thrown.
  deadline: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
  // Checked after each failed try: true throws that try's error instead of pausing (shutting down).
  stop?: () => boolean;
  onRetry?: (err: unknown, tries: number, delayMs: number) => void;
}

// Runs `work` until it succeeds, pausing 1, 2, 4 … times `firstDelayMs` (capped at `maxDelayMs`) between tries
// while its failures are retryable and the deadline allows. A pause never runs past the deadline.
export async function retryTransient<T>(work: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const first = opts.firstDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 2000;
  for (let tries = 1; ; tries++) {
    try {
      return await work();
    } catch (err) {
      const left = opts.deadline - Date.now();
      if (!opts.retryable(err) || left <= 0 || opts.stop?.()) throw err;
      const delay = Math.min(first * 2 ** (tries - 1), max, left);
      opts.onRetry?.(err, tries, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
