import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MediaModule } from '../media/media.module';
import { MessagingModule } from '../messaging/messaging.module';
import { MessageAttachmentEntity } from './entities/message-attachment.entity';
import { MessengerProfileEntity } from './entities/messenger-profile.entity';
import { SendIdempotencyKeyEntity } from './entities/send-idempotency-key.entity';
import { AttachmentsService } from './attachments.service';
import { MessengerProfileService } from './messenger-profile.service';
import { PageProfileController } from './page-profile.controller';
import { SendApiController } from './send-api.controller';
import { SendApiService } from './send-api.service';
import { UserProfileService } from './user-profile.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([SendIdempotencyKeyEntity, MessageAttachmentEntity, MessengerProfileEntity]),
    MessagingModule,
    MediaModule,
  ],
  controllers: [SendApiController, PageProfileController],
  providers: [SendApiService, AttachmentsService, MessengerProfileService, UserProfileService],
  exports: [SendApiService, AttachmentsService, MessengerProfileService],
})
export class SendApiModule {}
