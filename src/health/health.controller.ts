import { Controller, Get, HttpStatus, Inject, Logger, Optional, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { withDeadline } from '../common/async/deadline';
import { safeEqual } from '../common/crypto/tokens';
import { unauthorized } from '../common/errors/app.exception';
import { bearerToken } from '../auth/guards/token-extract';
import { AppConfig } from '../config/app-config';
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
    private readonly config: AppConfig,
  ) {}

  private readonly logger = new Logger(HealthController.name);

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
    // Up or down only: the client's error (an address, a port) goes to the log, not to whoever asks.
    const down = (what: string) => (e: Error) => {
      this.logger.warn(`readiness: ${what} is down: ${e.message}`);
      return 'down';
    };
    checks.postgres = await withDeadline(this.db.query('SELECT 1'), CHECK_TIMEOUT_MS, timedOut)
      .then(() => 'up')
      .catch(down('postgres'));
    if (this.redis) {
      checks.redis = await withDeadline(this.redis.ping(), CHECK_TIMEOUT_MS, timedOut)
        .then(() => 'up')
        .catch(down('redis'));
    }
    const ok = Object.values(checks).every((v) => v === 'up');
    void reply.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).send({ status: ok ? 'ok' : 'unavailable', checks });
  }

  @Get('metrics')
  @ApiExcludeEndpoint()
  async scrape(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const expected = this.config.env.METRICS_TOKEN;
    if (expected) {
      const token = bearerToken(req);
      if (!token || !safeEqual(token, expected)) throw unauthorized('The metrics token is required');
    }
    // Set here, not by a decorator: a refusal is the JSON error, which a text/plain header would break.
    void reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    return this.metrics.registry.metrics();
  }
}
