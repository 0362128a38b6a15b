import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppModule } from '../app.module';
import { PinoNestLogger, createRootLogger } from '../common/logging/logger';
import { cacheValidationMetadata } from '../common/validation-metadata-cache';
import { AppConfig, ProcessRole } from '../config/app-config';
import { EnvSchema } from '../config/env.schema';
import { EmbeddedPostgres, startEmbeddedPostgres } from '../database/embedded-postgres';
import { runMigrations } from '../database/run-migrations';
import { createHttpApp } from './http-app';
import { serveWorkerHttp, WorkerHttp } from './worker-http';
import { MetricsService } from '../health/metrics.service';
import { WebhookDeliveryProcessor } from '../webhooks/jobs/webhook-delivery.processor';

export interface RunningPlatform {
  config: AppConfig;
  app: INestApplicationContext;
  url?: string;
  logger: Logger;
  stop(): Promise<void>;
}

// One build, three ways to start it: `all` (api and worker in one process), `api`, `worker`.
export async function startPlatform(env: EnvSchema, role: ProcessRole): Promise<RunningPlatform> {
  cacheValidationMetadata();
  const logger = createRootLogger(env.LOG_LEVEL, role);
  if (role !== 'all' && !env.DATABASE_URL) {
    throw new Error(`Role ${role} needs DATABASE_URL: the embedded database lives inside one process (role all)`);
  }
  if (role !== 'all' && !env.REDIS_URL) {
    throw new Error(`Role ${role} needs REDIS_URL: in-process queues cannot cross processes`);
  }
  const config = new AppConfig(env, role);
  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(config.dataDir, logger);
    databaseUrl = embedded.url;
  }
  logger.info(
    {
      role,
      database: config.embeddedDatabase ? 'embedded PGlite' : 'PostgreSQL',
      redis: config.embeddedRedis ? 'in-process stand-ins' : 'Redis',
      secretsKey: config.secretsKeySource === 'SECRETS_KEY' ? 'SECRETS_KEY' : `generated (${config.secretsKeySource})`,
    },
    `mode: ${config.embeddedDatabase ? 'embedded' : 'external'} database, ${config.embeddedRedis ? 'in-process' : 'Redis'} queues`,
  );
  if (config.allowInsecureWebhooks) {
    logger.warn('ALLOW_INSECURE_WEBHOOKS is on: plain-http URLs on allow-listed addresses are accepted (webhooks may reach loopback while OUTBOUND_ALLOWLIST is empty; media URLs and scripts never)');
  }
  if (!env.PUBLIC_BASE_URL && !config.embeddedDatabase && env.HOST !== '127.0.0.1' && env.HOST !== 'localhost') {
    // Media URLs in webhooks, echoes and hosted scripts' events are never built on a caller's Host header.
    logger.warn('PUBLIC_BASE_URL is unset: media URLs sent to bots name the address this process listens on, which bots elsewhere may not reach');
  }
  if (env.MIGRATIONS_RUN) {
    // The embedded server accepts one process only, so it needs no lock.
    const ran = await runMigrations(databaseUrl, { lock: !embedded });
    if (ran.length) logger.info({ migrations: ran }, 'migrations applied');
    // The migration connection has closed on our side; the app's pool must not arrive before the server saw it.
    await embedded?.idle();
  }

  let app: INestApplicationContext;
  let url: string | undefined;
  let workerHttp: WorkerHttp | undefined;
  if (config.servesHttp) {
    const http = await createHttpApp({ config, databaseUrl, logger });
    await http.listen(env.PORT, env.HOST);
    const address = http.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : env.PORT;
    const scheme = env.TLS_CERT_FILE ? 'https' : 'http';
    url = `${scheme}://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${port}`;
    logger.info({ url }, `listening on ${url} (docs at ${url}/docs)`);
    app = http;
  } else {
    app = await NestFactory.createApplicationContext(AppModule.forRoot({ config, databaseUrl }), {
      logger: new PinoNestLogger(logger),
    });
    await app.init();
    workerHttp = await serveWorkerHttp(app.get(MetricsService), env.WORKER_HTTP_PORT, env.HOST, logger);
    url = workerHttp.url;
    logger.info({ url }, url ? `worker started (${url}/metrics, ${url}/health)` : 'worker started');
  }

  return {
    config,
    app,
    url,
    logger,
    async stop() {
      app.get(WebhookDeliveryProcessor, { strict: false }).stopTakingBatches();
      // Jobs stop first (the attempts in flight finish); /metrics and /health answer until then.
      await app.close();
      await workerHttp?.close();
      if (embedded) await embedded.stop();
    },
  };
}
