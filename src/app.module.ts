import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountLinkingModule } from './account-linking/account-linking.module';
import { MarketingMessagesModule } from './marketing-messages/marketing-messages.module';
import { AccountsModule } from './accounts/accounts.module';
import { AdminModule } from './admin/admin.module';
import { AppsModule } from './apps/apps.module';
import { AuthModule } from './auth/auth.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { dataSourceOptions } from './database/data-source';
import { HealthModule } from './health/health.module';
import { InfraModule } from './infra/infra.module';
import { MessagingModule } from './messaging/messaging.module';
import { PagesModule } from './pages/pages.module';
import { ReportsModule } from './reports/reports.module';
import { SandboxModule } from './sandbox/sandbox.module';
import { SendApiModule } from './send-api/send-api.module';
import { HandoverModule } from './handover/handover.module';
import { InboxModule } from './inbox/inbox.module';
import { GraphBatchModule } from './graph-batch/graph-batch.module';
import { WebhooksModule } from './webhooks/webhooks.module';

export interface AppModuleOptions {
  config: AppConfig;
  databaseUrl: string;
}

@Module({})
export class AppModule {
  static forRoot({ config, databaseUrl }: AppModuleOptions): DynamicModule {
    // PGlite is one session: the embedded default gets a pool of one.
    const poolSize = config.embeddedDatabase ? 1 : config.env.DATABASE_POOL_SIZE;
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRoot({
          ...dataSourceOptions({ url: databaseUrl, poolSize, queryTimeoutMs: config.env.DATABASE_QUERY_TIMEOUT_MS }),
          entities: [],
          autoLoadEntities: true,
          retryAttempts: 20,
          retryDelay: 1000,
        }),
        DatabaseModule,
        InfraModule.forRoot(config),
        HealthModule,
        AuthModule,
        AccountsModule,
        AppsModule,
        PagesModule,
        AdminModule,
        WebhooksModule,
        MessagingModule,
        SendApiModule,
        HandoverModule,
        InboxModule,
        ReportsModule,
        AccountLinkingModule,
        MarketingMessagesModule,
        GraphBatchModule,
        SandboxModule,
      ],
    };
  }
}
