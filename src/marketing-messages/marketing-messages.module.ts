import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MessagingModule } from '../messaging/messaging.module';
import { NotificationMessageTokenEntity } from './entities/notification-message-token.entity';
import { MarketingMessagesGraphController } from './marketing-messages-graph.controller';
import { MarketingMessagesController } from './marketing-messages.controller';
import { MarketingMessagesService } from './marketing-messages.service';

@Module({
  imports: [TypeOrmModule.forFeature([NotificationMessageTokenEntity]), MessagingModule],
  controllers: [MarketingMessagesController, MarketingMessagesGraphController],
  providers: [MarketingMessagesService],
  exports: [MarketingMessagesService],
})
export class MarketingMessagesModule {}
