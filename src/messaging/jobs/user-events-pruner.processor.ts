import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { batchedSweep } from '../../common/async/batched-sweep';
import { AppConfig } from '../../config/app-config';
import { SqlService } from '../../database/sql.service';

const BATCH = 5000;
const MAX_BATCHES = 20;

// Worker-role processes only: every USER_EVENTS_PRUNE_INTERVAL_MS, deletes person events older than
// USER_EVENTS_RETENTION_SECONDS. Messages stay (they are the history); only the replay log is trimmed. A client
// that comes back with a cursor from before the trim is told to reset (see MessagingService.resumePoint).
// Several workers may run it at once: a delete of rows another worker already took simply deletes fewer.
@Injectable()
export class UserEventsPrunerProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('UserEventsPruner');
  private readonly sweep = batchedSweep({
    batch: async () => {
      // Only ever a prefix of each person's log goes, so what is left runs gap-free from its oldest cursor, which
      // is all resumePoint checks: everything up to the newest expired cursor a batch saw (created_at is its
      // transaction's start, so a slightly older cursor can be younger; it goes a little early). Taking the
      // expired rows themselves left holes (an unordered batch, or that skew) that a client resuming from
      // before one read past silently.
      const [{ n }] = await this.sql.query<{ n: number }>(
        `WITH expired AS (
           SELECT s.user_id, max(s.cursor) AS upto FROM (
             SELECT user_id, cursor FROM user_events
              WHERE created_at < now() - ($1::int * interval '1 second') LIMIT $2) s
            GROUP BY s.user_id),
         gone AS (
           DELETE FROM user_events e USING expired x WHERE e.user_id = x.user_id AND e.cursor <= x.upto
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [this.config.env.USER_EVENTS_RETENTION_SECONDS, BATCH],
      );
      return n;
    },
    size: BATCH,
    maxBatches: MAX_BATCHES,
    onDone: (n) => this.logger.log(`removed ${n} person events past retention`),
    onError: (err) => this.logger.warn(`pruning person events failed: ${err.message}`),
  });

  constructor(
    private readonly config: AppConfig,
    private readonly sql: SqlService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.runsWorkers) this.sweep.start(this.config.env.USER_EVENTS_PRUNE_INTERVAL_MS);
  }

  onModuleDestroy(): void {
    this.sweep.stop();
  }

  tick(): Promise<number> {
    return this.sweep.run();
  }
}
