import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { SqlService } from '../../database/sql.service';

const BATCH = 5000;
// Per tick, so one run never holds a worker (or the table) for long; the rest waits for the next tick.
const MAX_BATCHES = 20;

// Worker-role processes only: every USER_EVENTS_PRUNE_INTERVAL_MS, deletes person events older than
// USER_EVENTS_RETENTION_SECONDS. Messages stay (they are the history); only the replay log is trimmed. A client
// that comes back with a cursor from before the trim is told to reset (see MessagingService.resumePoint).
// Several workers may run it at once: a delete of rows another worker already took simply deletes fewer.
@Injectable()
export class UserEventsPrunerProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('UserEventsPruner');
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly config: AppConfig,
    private readonly sql: SqlService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runsWorkers) return;
    this.timer = setInterval(() => void this.tick(), this.config.env.USER_EVENTS_PRUNE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let removed = 0;
    try {
      for (let i = 0; i < MAX_BATCHES; i++) {
        const [{ n }] = await this.sql.query<{ n: number }>(
          `WITH gone AS (
             DELETE FROM user_events WHERE (user_id, cursor) IN (
               SELECT user_id, cursor FROM user_events
                WHERE created_at < now() - ($1::int * interval '1 second') LIMIT $2)
             RETURNING 1)
           SELECT count(*)::int AS n FROM gone`,
          [this.config.env.USER_EVENTS_RETENTION_SECONDS, BATCH],
        );
        removed += n;
        if (n < BATCH) break;
      }
      if (removed) this.logger.log(`removed ${removed} person events past retention`);
    } catch (err) {
      this.logger.warn(`pruning person events failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
    return removed;
  }
}
