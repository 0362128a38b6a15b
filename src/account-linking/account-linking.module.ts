import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MessagingModule } from '../messaging/messaging.module';
import { AccountLinkingGraphController } from './account-linking-graph.controller';
import { AccountLinkingController, AccountLinkingReturnController } from './account-linking.controller';
import { AccountLinkingService } from './account-linking.service';
import { AccountLinkEntity } from './entities/account-link.entity';
import { AccountLinkingTokenEntity } from './entities/account-linking-token.entity';
import { AccountLinkingTokenSweeperProcessor } from './jobs/account-linking-token-sweeper.processor';

@Module({
  imports: [TypeOrmModule.forFeature([AccountLinkingTokenEntity, AccountLinkEntity]), MessagingModule],
  controllers: [AccountLinkingController, AccountLinkingReturnController, AccountLinkingGraphController],
  providers: [AccountLinkingService, AccountLinkingTokenSweeperProcessor],
  exports: [AccountLinkingService],
})
export class AccountLinkingModule {}
