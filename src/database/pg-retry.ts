import { retryTransient } from '../common/async/retry';
import { isDatabaseUnavailable } from './pg-errors';

// Runs a write again while Postgres is away (isDatabaseUnavailable), pausing 0.1 s doubling to 2 s, for up to
// `forMs`; any other error, or `stop()` after a failed try, ends it with that error. Only for writes that are
// safe to run twice.
export function retryWhileDatabaseAway<T>(
  write: () => Promise<T>,
  opts: { forMs: number; stop?: () => boolean; onFirstRetry?: (err: Error) => void },
): Promise<T> {
  return retryTransient(write, {
    retryable: isDatabaseUnavailable,
    deadline: Date.now() + opts.forMs,
    firstDelayMs: 100,
    maxDelayMs: 2000,
    stop: opts.stop,
    onRetry: (err, tries) => {
      if (tries === 1) opts.onFirstRetry?.(err as Error);
    },
  });
}
