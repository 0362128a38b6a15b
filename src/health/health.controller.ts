import { Controller, Get, Header, HttpStatus, Inject, Optional, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { withDeadline } from '../common/async/deadline';
import { REDIS } from '../infra/redis/redis-connection';
import { MetricsService } from './metrics.service';

const CHECK_TIMEOUT_MS = 2000;

const timedOut = () => new Error('timed out');

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Optional() @Inject(REDIS) private readonly redis: Redis | null,
    private readonly metrics: MetricsService,
  ) {}

  @Get('health')
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  alive() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  @ApiOkResponse({ schema: { example: { status: 'ok', checks: { postgres: 'up', redis: 'up' } } } })
  @ApiServiceUnavailableResponse()
  async ready(@Res() reply: FastifyReply) {
    const checks: Record<string, string> = {};
    checks.postgres = await withDeadline(this.db.query('SELECT 1'), CHECK_TIMEOUT_MS, timedOut)
      .then(() => 'up')
      .catch((e: Error) => `down: ${e.message}`);
    if (this.redis) {
      checks.redis = await withDeadline(this.redis.ping(), CHECK_TIMEOUT_MS, timedOut)
        .then(() => 'up')
        .catch((e: Error) => `down: ${e.message}`);
    }
    const ok = Object.values(checks).every((v) => v === 'up');
    void reply.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).send({ status: ok ? 'ok' : 'unavailable', checks });
  }

  @Get('metrics')
  @ApiExcludeEndpoint()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
