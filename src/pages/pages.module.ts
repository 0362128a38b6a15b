import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppsModule } from '../apps/apps.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { PageAdminEntity } from './entities/page-admin.entity';
import { PageAppEntity } from './entities/page-app.entity';
import { PageEntity } from './entities/page.entity';
import { PagesGraphController } from './pages-graph.controller';
import { PageInboxHub } from './page-inbox-hub';
import { PagesController } from './pages.controller';
import { PagesService } from './pages.service';

@Module({
  imports: [TypeOrmModule.forFeature([PageEntity, PageAdminEntity, PageAppEntity]), AppsModule, WebhooksModule],
  controllers: [PagesController, PagesGraphController],
  providers: [PagesService, PageInboxHub],
  exports: [PagesService, PageInboxHub],
})
export class PagesModule {}
