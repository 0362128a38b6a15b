import { Module } from '@nestjs/common';
import { MessagingModule } from '../messaging/messaging.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { HandoverGraphController } from './handover-graph.controller';
import { HandoverService } from './handover.service';

@Module({
  imports: [MessagingModule, WebhooksModule],
  controllers: [HandoverGraphController],
  providers: [HandoverService],
})
export class HandoverModule {}
