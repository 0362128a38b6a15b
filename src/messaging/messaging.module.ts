import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MediaModule } from '../media/media.module';
import { PagesModule } from '../pages/pages.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { MessageEntity } from './entities/message.entity';
import { ThreadEntity } from './entities/thread.entity';
import { UserEventCursorEntity } from './entities/user-event-cursor.entity';
import { UserEventEntity } from './entities/user-event.entity';
import { EventsController } from './events.controller';
import { UserEventsPrunerProcessor } from './jobs/user-events-pruner.processor';
import { MessagingService } from './messaging.service';
import { LongPollService } from './realtime/long-poll.service';
import { RealtimeHub } from './realtime/realtime-hub';
import { WsGateway } from './realtime/ws.gateway';
import { ThreadsController } from './threads.controller';

@Module({
  imports: [
    TypeOrmModule.forFeature([ThreadEntity, MessageEntity, UserEventEntity, UserEventCursorEntity]),
    PagesModule,
    WebhooksModule,
    MediaModule,
  ],
  controllers: [ThreadsController, EventsController],
  providers: [MessagingService, RealtimeHub, LongPollService, WsGateway, UserEventsPrunerProcessor],
  exports: [MessagingService],
})
export class MessagingModule {}
