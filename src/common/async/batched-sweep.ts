// A worker's periodic housekeeping: every `everyMs`, delete in batches (each `batch()` deletes at most `size` rows
// and answers how many) until a short batch or `maxBatches`, so one run never holds a worker, or the table, for
// long; the rest waits for the next run. A run still going when the next is due is skipped, not doubled. Failures
// are reported to `onError` and the next run tries again. Plain timers (unref'd): no Nest.
export interface BatchedSweep {
  // One run now (what the timer does): how many rows went, 0 if a run was already going.
  run(): Promise<number>;
  stop(): void;
}

export function batchedSweep(opts: {
  batch: () => Promise<number>;
  size: number;
  maxBatches: number;
  onDone?: (removed: number) => void;
  onError: (err: Error) => void;
}): BatchedSweep & { start(everyMs: number): void } {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  const run = async (): Promise<number> => {
    if (running) return 0;
    running = true;
    let removed = 0;
    try {
      for (let i = 0; i < opts.maxBatches; i++) {
        const n = await opts.batch();
        removed += n;
        if (n < opts.size) break;
      }
      if (removed) opts.onDone?.(removed);
    } catch (err) {
      opts.onError(err as Error);
    } finally {
      running = false;
    }
    return removed;
  };
  return {
    run,
    start(everyMs) {
      timer = setInterval(() => void run(), everyMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
