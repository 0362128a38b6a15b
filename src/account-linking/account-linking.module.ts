import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MessagingModule } from '../messaging/messaging.module';
import { AccountLinkingGraphController } from './account-linking-graph.controller';
import { AccountLinkingController, AccountLinkingReturnController } from './account-linking.controller';
import { AccountLinkingService } from './account-linking.service';
import { AccountLinkEntity } from './entities/account-link.entity';
import { AccountLinkingTokenEntity } from './entities/account-linking-token.entity';

@Module({
  imports: [TypeOrmModule.forFeature([AccountLinkingTokenEntity, AccountLinkEntity]), MessagingModule],
  controllers: [AccountLinkingController, AccountLinkingReturnController, AccountLinkingGraphController],
  providers: [AccountLinkingService],
  exports: [AccountLinkingService],
})
export class AccountLinkingModule {}
