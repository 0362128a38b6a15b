import { BullModule, getQueueToken } from '@nestjs/bullmq';
import {
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { ConnectionOptions, Queue } from 'bullmq';
import type Redis from 'ioredis';
import { SafeHttpClient } from '../../libs/safe-http';
import { AppConfig } from '../config/app-config';
import { createOutboundHttp, createWebhookHttp, OUTBOUND_HTTP, WEBHOOK_HTTP } from './http/outbound-http';
import { MemoryPubSub, PUBSUB, PubSubPort, RedisPubSub } from './pubsub/pubsub.port';
import { JOB_NAMES, JobName } from './queue/jobs';
import { MemoryQueue } from './queue/memory-queue';
import { QUEUE, QueuePort } from './queue/queue.port';
import { RedisQueue } from './queue/redis-queue';
import { MemoryRateLimiter, RATE_LIMITER, RedisRateLimiter } from './rate-limit/rate-limiter.port';
import { connectRedis, REDIS, redisOptions } from './redis/redis-connection';

@Injectable()
class InfraLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Infra');

  constructor(
    @Inject(QUEUE) private readonly queue: QueuePort,
    @Inject(PUBSUB) private readonly pubsub: PubSubPort,
    @Optional() @Inject(REDIS) private readonly redis: Redis | null,
    @Inject(OUTBOUND_HTTP) private readonly outbound: SafeHttpClient,
    @Inject(WEBHOOK_HTTP) private readonly webhookHttp: SafeHttpClient,
  ) {}

  // BullMQ's locks are keys with a TTL: any policy but noeviction may evict them (or queued jobs) under pressure.
  async onApplicationBootstrap(): Promise<void> {
    if (!this.redis) return;
    try {
      const reply = (await this.redis.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
      const policy = reply?.[1];
      if (policy && policy !== 'noeviction') {
        this.logger.warn(
          `Redis maxmemory-policy is "${policy}", not "noeviction": Redis may evict queue keys; ` +
            'Postgres keeps every delivery and the reconciler re-enqueues them, but set noeviction',
        );
      }
    } catch (err) {
      this.logger.warn(`could not read Redis maxmemory-policy: ${(err as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
    await this.pubsub.close();
    await this.outbound.close();
    await this.webhookHttp.close();
    if (this.redis) await this.redis.quit().catch(() => undefined);
  }
}

// The queue, pub/sub and rate-limit ports: Redis when REDIS_URL is set, in-process stand-ins otherwise.
@Global()
@Module({})
export class InfraModule {
  static forRoot(config: AppConfig): DynamicModule {
    const env = config.env;
    const outbound = { provide: OUTBOUND_HTTP, useFactory: () => createOutboundHttp(config) };
    const webhookHttp = { provide: WEBHOOK_HTTP, useFactory: () => createWebhookHttp(config) };
    if (!env.REDIS_URL) {
      return {
        module: InfraModule,
        providers: [
          { provide: REDIS, useValue: null },
          { provide: QUEUE, useValue: new MemoryQueue() },
          { provide: PUBSUB, useValue: new MemoryPubSub() },
          { provide: RATE_LIMITER, useValue: new MemoryRateLimiter() },
          outbound,
          webhookHttp,
          InfraLifecycle,
        ],
        exports: [REDIS, QUEUE, PUBSUB, RATE_LIMITER, OUTBOUND_HTTP, WEBHOOK_HTTP],
      };
    }
    const url = env.REDIS_URL;
    const prefix = env.REDIS_PREFIX;
    const commandTimeout = env.REDIS_COMMAND_TIMEOUT_MS > 0 ? { commandTimeout: env.REDIS_COMMAND_TIMEOUT_MS } : {};
    return {
      module: InfraModule,
      imports: [
        // The queues' connection (adds, counts; never blocking: workers have their own) waits no longer than
        // the main one, so an enqueue after a commit doesn't hold its request while Redis is away.
        BullModule.forRoot({ connection: { ...redisOptions(url), ...commandTimeout } as ConnectionOptions, prefix: `${prefix}:bull` }),
        ...JOB_NAMES.map((name) => BullModule.registerQueue({ name })),
      ],
      providers: [
        // Commands issued in the same tick (rate-limit buckets, publishes of concurrent requests) go out in one
        // write: Send API CPU per call 0.47 ms with it, 0.60-0.67 without (bench:send). The webhook drain, which
        // is bimodal between runs, had a lower median with it (~800 vs ~1,200/s): see docs/architecture.md.
        // Never used for blocking commands.
        // While Redis is away, a command waits REDIS_COMMAND_TIMEOUT_MS, not until it is back: a request is
        // answered 503 instead of hanging (nothing is written before the rate limit's call).
        {
          provide: REDIS,
          useFactory: () =>
            connectRedis(url, `${prefix}-main`, {
              enableAutoPipelining: true,
              ...commandTimeout,
            }),
        },
        {
          provide: QUEUE,
          inject: [REDIS, ...JOB_NAMES.map((n) => getQueueToken(n))],
          useFactory: (redis: Redis, ...queues: Queue[]) =>
            new RedisQueue(
              new Map(JOB_NAMES.map((n, i) => [n as JobName, queues[i]])),
              redisOptions(url),
              `${prefix}:bull`,
              redis,
            ),
        },
        {
          provide: PUBSUB,
          inject: [REDIS],
          useFactory: (redis: Redis) => new RedisPubSub(redis, connectRedis(url, `${prefix}-sub`), prefix, new Logger('PubSub')),
        },
        { provide: RATE_LIMITER, inject: [REDIS], useFactory: (redis: Redis) => new RedisRateLimiter(redis, prefix) },
        outbound,
        webhookHttp,
        InfraLifecycle,
      ],
      exports: [REDIS, QUEUE, PUBSUB, RATE_LIMITER, OUTBOUND_HTTP, WEBHOOK_HTTP],
    };
  }
}
