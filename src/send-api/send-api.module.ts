import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountLinkingModule } from '../account-linking/account-linking.module';
import { AppConfig } from '../config/app-config';
import { resolveSecretsKey } from '../config/secrets-key';
import { MarketingMessagesModule } from '../marketing-messages/marketing-messages.module';
import { MediaModule } from '../media/media.module';
import { MessagingModule } from '../messaging/messaging.module';
import { MessageAttachmentEntity } from './entities/message-attachment.entity';
import { MessengerProfileEntity } from './entities/messenger-profile.entity';
import { PersonaEntity } from './entities/persona.entity';
import { CustomUserSettingsEntity } from './entities/custom-user-settings.entity';
import { SendIdempotencyKeyEntity } from './entities/send-idempotency-key.entity';
import { AttachmentsService } from './attachments.service';
import { AvatarController } from './avatar.controller';
import { AvatarUrlSigner } from './avatar';
import { MessengerProfileService } from './messenger-profile.service';
import { PageProfileController } from './page-profile.controller';
import { PersonasService } from './personas.service';
import { SendApiController } from './send-api.controller';
import { SendApiService } from './send-api.service';
import { AVATAR_URL_SIGNER, UserProfileService } from './user-profile.service';
import { ConversationsService } from './conversations.service';

const createAvatarSigner = (config: AppConfig) =>
  new AvatarUrlSigner(resolveSecretsKey(config.env.SECRETS_KEY, config.dataDir).key, config.env.PROFILE_PIC_URL_TTL_SECONDS);

@Module({
  imports: [
    TypeOrmModule.forFeature([SendIdempotencyKeyEntity, MessageAttachmentEntity, MessengerProfileEntity, PersonaEntity, CustomUserSettingsEntity]),
    MessagingModule,
    MediaModule,
    AccountLinkingModule,
    MarketingMessagesModule,
  ],
  controllers: [SendApiController, PageProfileController, AvatarController],
  providers: [
    SendApiService,
    AttachmentsService,
    MessengerProfileService,
    PersonasService,
    UserProfileService,
    ConversationsService,
    { provide: AVATAR_URL_SIGNER, inject: [AppConfig], useFactory: createAvatarSigner },
  ],
  exports: [SendApiService, AttachmentsService, MessengerProfileService, PersonasService],
})
export class SendApiModule {}
