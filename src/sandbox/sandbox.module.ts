import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountLinkingModule } from '../account-linking/account-linking.module';
import { HandoverModule } from '../handover/handover.module';
import { MediaModule } from '../media/media.module';
import { PagesModule } from '../pages/pages.module';
import { SendApiModule } from '../send-api/send-api.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { PageScriptEntity } from './entities/page-script.entity';
import { ScriptLogEntity } from './entities/script-log.entity';
import { ScriptStoreEntity } from './entities/script-store.entity';
import { ScriptVersionEntity } from './entities/script-version.entity';
import { ScriptInvocationProcessor } from './jobs/script-invocation.processor';
import { SandboxPools } from './sandbox-pools';
import { ScriptHostBridge } from './script-host-bridge';
import { ScriptLogs } from './script-logs';
import { ScriptsController } from './scripts.controller';
import { ScriptsService } from './scripts.service';

// Hosted bot scripts around the Nest-free runtime (./runtime): routes, storage, the bridge and the invocation job.
@Module({
  imports: [
    TypeOrmModule.forFeature([ScriptVersionEntity, PageScriptEntity, ScriptStoreEntity, ScriptLogEntity]),
    PagesModule,
    SendApiModule,
    MediaModule,
    WebhooksModule,
    HandoverModule,
    AccountLinkingModule,
  ],
  controllers: [ScriptsController],
  providers: [ScriptHostBridge, SandboxPools, ScriptLogs, ScriptsService, ScriptInvocationProcessor],
})
export class SandboxModule {}
