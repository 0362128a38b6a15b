import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HandoverModule } from '../handover/handover.module';
import { MessagingModule } from '../messaging/messaging.module';
import { PagesModule } from '../pages/pages.module';
import { SendApiModule } from '../send-api/send-api.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { InboxNoteEntity } from './entities/inbox-note.entity';
import { InboxController } from './inbox.controller';
import { InboxService } from './inbox.service';

@Module({
  imports: [TypeOrmModule.forFeature([InboxNoteEntity]), PagesModule, MessagingModule, HandoverModule, WebhooksModule, SendApiModule],
  controllers: [InboxController],
  providers: [InboxService],
})
export class InboxModule {}
