import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { batchedSweep } from '../../common/async/batched-sweep';
import { AppConfig } from '../../config/app-config';
import { AccountLinkingService } from '../account-linking.service';

const BATCH = 1000;
const MAX_BATCHES = 20;

// Worker-role processes only: every ACCOUNT_LINKING_SWEEP_INTERVAL_MS, deletes Log In tokens past their expiry (used
// or not: no route reads an expired one). A thread's own taps also clear its old tokens, but a tap that is never
// followed by another would otherwise stay for good. Several workers may run it at once: each skips rows another
// is deleting.
@Injectable()
export class AccountLinkingTokenSweeperProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AccountLinkingTokenSweeper');
  private readonly sweep = batchedSweep({
    batch: () => this.accountLinking.deleteExpiredTokens(Date.now(), BATCH),
    size: BATCH,
    maxBatches: MAX_BATCHES,
    onDone: (n) => this.logger.log(`removed ${n} expired account linking tokens`),
    onError: (err) => this.logger.warn(`sweeping account linking tokens failed: ${err.message}`),
  });

  constructor(
    private readonly config: AppConfig,
    private readonly accountLinking: AccountLinkingService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.runsWorkers) this.sweep.start(this.config.env.ACCOUNT_LINKING_SWEEP_INTERVAL_MS);
  }

  onModuleDestroy(): void {
    this.sweep.stop();
  }

  tick(): Promise<number> {
    return this.sweep.run();
  }
}
