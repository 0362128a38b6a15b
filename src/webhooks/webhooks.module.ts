import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppsModule } from '../apps/apps.module';
import { MediaModule } from '../media/media.module';
import { DeliveryReceipts } from './delivery-receipts';
import { DeliveryLogService } from './delivery-log.service';
import { WebhookAttemptEntity } from './entities/webhook-attempt.entity';
import { WebhookDeliveryEntity } from './entities/webhook-delivery.entity';
import { WebhookEndpointEntity } from './entities/webhook-endpoint.entity';
import { WebhookEventEntity } from './entities/webhook-event.entity';
import { WebhookDeliveryProcessor } from './jobs/webhook-delivery.processor';
import { WebhookPrunerProcessor } from './jobs/webhook-pruner.processor';
import { WebhooksGraphController } from './webhooks-graph.controller';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([WebhookEventEntity, WebhookDeliveryEntity, WebhookAttemptEntity, WebhookEndpointEntity]),
    AppsModule,
    MediaModule,
  ],
  controllers: [WebhooksController, WebhooksGraphController],
  providers: [WebhooksService, WebhookDeliveryProcessor, WebhookPrunerProcessor, DeliveryLogService, DeliveryReceipts],
  exports: [WebhooksService, DeliveryReceipts],
})
export class WebhooksModule {}
