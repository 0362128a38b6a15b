import { Module } from '@nestjs/common';
import { MessagingModule } from '../messaging/messaging.module';
import { PagesModule } from '../pages/pages.module';
import { SendApiModule } from '../send-api/send-api.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { HandoverGraphController } from './handover-graph.controller';
import { HandoverIdleProcessor } from './handover-idle.processor';
import { HandoverService } from './handover.service';

@Module({
  imports: [MessagingModule, PagesModule, WebhooksModule, SendApiModule],
  controllers: [HandoverGraphController],
  providers: [HandoverService, HandoverIdleProcessor],
  exports: [HandoverService],
})
export class HandoverModule {}
