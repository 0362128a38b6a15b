import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { AccountLinkingService } from '../account-linking.service';

const BATCH = 1000;
// Per tick, so one run never holds a worker (or the table) for long; the rest waits for the next tick.
const MAX_BATCHES = 20;

// Worker-role processes only: every ACCOUNT_LINKING_SWEEP_INTERVAL_MS, deletes Log In tokens past their expiry (used
// or not: no route reads an expired one). A thread's own taps also clear its old tokens, but a tap that is never
// followed by another would otherwise stay for good. Several workers may run it at once: each skips rows another
// is deleting.
@Injectable()
export class AccountLinkingTokenSweeperProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AccountLinkingTokenSweeper');
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly config: AppConfig,
    private readonly accountLinking: AccountLinkingService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runsWorkers) return;
    this.timer = setInterval(() => void this.tick(), this.config.env.ACCOUNT_LINKING_SWEEP_INTERVAL_MS);
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
        const n = await this.accountLinking.deleteExpiredTokens(Date.now(), BATCH);
        removed += n;
        if (n < BATCH) break;
      }
      if (removed) this.logger.log(`removed ${removed} expired account linking tokens`);
    } catch (err) {
      this.logger.warn(`sweeping account linking tokens failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
    return removed;
  }
}
