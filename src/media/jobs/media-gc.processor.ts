import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { MediaService } from '../media.service';

const BATCH = 100;
// Per tick, so one run never holds a worker for long; the rest waits for the next tick.
const MAX_BATCHES = 20;

// Worker-role processes only: every MEDIA_GC_INTERVAL_MS, deletes uploads nobody sent (MediaService.collectOrphans).
// Several workers may run it at once: each row and each hash is decided under its own lock.
@Injectable()
export class MediaGcProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('MediaGc');
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly config: AppConfig,
    private readonly media: MediaService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runsWorkers) return;
    this.timer = setInterval(() => void this.tick(), this.config.env.MEDIA_GC_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      let rows = 0;
      let hashes = 0;
      for (let i = 0; i < MAX_BATCHES; i++) {
        const done = await this.media.collectOrphans(BATCH);
        rows += done.rows;
        hashes += done.hashes;
        if (done.rows < BATCH) break;
      }
      if (rows) this.logger.log(`removed ${rows} unsent uploads (${hashes} stored objects)`);
    } catch (err) {
      this.logger.warn(`orphan collection failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
