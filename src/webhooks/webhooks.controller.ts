import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AppsService } from '../apps/apps.service';
import { CurrentPrincipal, PersonAuth } from '../auth/guards/auth.guards';
import type { PersonPrincipal } from '../auth/principal';
import { DeliveryLogService } from './delivery-log.service';
import { ListDeliveriesQueryDto, ReplayDto } from './dto/deliveries.dto';

// The app owner's view of delivery: health, the attempt log, retry, replay, resume.
@ApiTags('webhooks')
@Controller('apps/:appId')
@PersonAuth()
export class WebhooksController {
  constructor(
    private readonly apps: AppsService,
    private readonly log: DeliveryLogService,
  ) {}

  @Get('webhook')
  @ApiOkResponse({ description: "Like Telegram's getWebhookInfo: backlog, last error and success, success rate, warning" })
  async health(@CurrentPrincipal() who: PersonPrincipal, @Param('appId') appId: string) {
    await this.apps.assertOwner(appId, who.userId);
    return this.log.health(appId);
  }

  @Post('webhook/resume')
  @HttpCode(200)
  @ApiOkResponse({ description: 'Clears a pause; the backlog drains oldest first with a slow start' })
  async resume(@CurrentPrincipal() who: PersonPrincipal, @Param('appId') appId: string) {
    await this.apps.assertOwner(appId, who.userId);
    return this.log.resume(appId);
  }

  @Get('deliveries')
  @ApiOkResponse({ description: 'Newest first; paging.next_cursor continues' })
  async list(@CurrentPrincipal() who: PersonPrincipal, @Param('appId') appId: string, @Query() q: ListDeliveriesQueryDto) {
    await this.apps.assertOwner(appId, who.userId);
    return this.log.list(appId, q);
  }

  @Get('deliveries/:deliveryId')
  @ApiOkResponse({ description: 'One delivery with its payload and every attempt (response bodies cut to 4 KB)' })
  async get(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('appId') appId: string,
    @Param('deliveryId') deliveryId: string,
  ) {
    await this.apps.assertOwner(appId, who.userId);
    return this.log.get(appId, deliveryId);
  }

  @Post('deliveries/:deliveryId/retry')
  @HttpCode(200)
  async retry(
    @CurrentPrincipal() who: PersonPrincipal,
    @Param('appId') appId: string,
    @Param('deliveryId') deliveryId: string,
  ) {
    await this.apps.assertOwner(appId, who.userId);
    return this.log.retry(appId, deliveryId);
  }

  @Post('replay')
  @HttpCode(200)
  @ApiOkResponse({ schema: { example: { replayed: 42, limit: 10000 } } })
  async replay(@CurrentPrincipal() who: PersonPrincipal, @Param('appId') appId: string, @Body() dto: ReplayDto) {
    await this.apps.assertOwner(appId, who.userId);
    return this.log.replay(appId, dto.since, dto.until, dto.status);
  }
}
