import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { SerialByKey } from '../common/async/serial-by-key';
import { DryRunBridge, DrySend } from './dry-run-bridge';
import { SandboxPool, type InvocationRequest, type InvocationResult, type SyntaxCheckResult } from './runtime';
import { ScriptHostBridge } from './script-host-bridge';

// The pools of a process. Worker-role processes run the live pool (started at boot); any process serving HTTP
// starts a small dry-run pool on first use (syntax checks at upload, test runs), with its own recording bridge.
@Injectable()
export class SandboxPools implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('SandboxPools');
  private live?: SandboxPool;
  private dry?: Promise<SandboxPool>;
  readonly dryBridge: DryRunBridge;
  // Dry runs of one Page are serialised: the recording bridge knows a run by its Page.
  private readonly dryRuns = new SerialByKey();
  private stopping = false;

  constructor(
    private readonly config: AppConfig,
    readonly bridge: ScriptHostBridge,
  ) {
    this.dryBridge = new DryRunBridge(bridge);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.runsWorkers) return;
    this.live = new SandboxPool({
      workers: this.config.env.SANDBOX_WORKERS,
      host: this.bridge,
      maxFetchesPerInvocation: this.config.env.SCRIPT_FETCH_MAX_PER_EVENT,
      onWorkerExit: (info) =>
        this.stopping ||
        this.logger.warn(`sandbox worker ${info.index} (pid ${info.pid}) exited: ${info.reason} ${info.message ?? ''}`),
      onHostError: (err, op, pageId) => this.logger.error(`host ${op} for page ${pageId} threw: ${(err as Error).message}`),
    });
    await this.live.start();
    this.logger.log(`sandbox pool started with ${this.config.env.SANDBOX_WORKERS} workers`);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.live?.stop();
    if (this.dry) await (await this.dry.catch(() => undefined))?.stop();
  }

  livePool(): SandboxPool {
    if (!this.live) throw new Error('the live sandbox pool runs in worker-role processes only');
    return this.live;
  }

  dispose(versionId: string): void {
    this.live?.dispose(versionId);
  }

  private dryPool(): Promise<SandboxPool> {
    if (!this.dry) {
      this.dry = (async () => {
        const pool = new SandboxPool({
          workers: this.config.env.SANDBOX_DRY_RUN_WORKERS,
          host: this.dryBridge,
          maxFetchesPerInvocation: this.config.env.SCRIPT_FETCH_MAX_PER_EVENT,
        });
        await pool.start();
        this.logger.log('dry-run sandbox pool started');
        return pool;
      })();
      this.dry.catch(() => (this.dry = undefined));
    }
    return this.dry;
  }

  async checkSyntax(source: string): Promise<SyntaxCheckResult> {
    return (await this.dryPool()).checkSyntax(source);
  }

  async dryRun(req: InvocationRequest): Promise<{ result: InvocationResult; sends: DrySend[] }> {
    const pool = await this.dryPool();
    return this.dryRuns.run(req.pageId, async () => {
      const session = this.dryBridge.begin(req.pageId);
      try {
        // Dry runs get their own isolate key so they never share module state with the live one.
        const result = await pool.invoke({ ...req, scriptVersionId: `dry-${req.scriptVersionId}` });
        return { result, sends: session.sends };
      } finally {
        this.dryBridge.end(req.pageId);
      }
    });
  }
}
