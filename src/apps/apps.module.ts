import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppsGraphController } from './apps-graph.controller';
import { AppsController } from './apps.controller';
import { AppsService } from './apps.service';
import { CallbackVerifier } from './callback-verifier';
import { AppSubscriptionEntity } from './entities/app-subscription.entity';
import { AppEntity } from './entities/app.entity';

@Module({
  imports: [TypeOrmModule.forFeature([AppEntity, AppSubscriptionEntity])],
  controllers: [AppsController, AppsGraphController],
  providers: [AppsService, CallbackVerifier],
  exports: [AppsService],
})
export class AppsModule {}
