import { Module } from '@nestjs/common';
import { MessagingModule } from '../messaging/messaging.module';
import { SendApiController } from './send-api.controller';
import { SendApiService } from './send-api.service';

@Module({
  imports: [MessagingModule],
  controllers: [SendApiController],
  providers: [SendApiService],
})
export class SendApiModule {}
