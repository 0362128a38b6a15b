import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { PagesModule } from '../pages/pages.module';
import { ReportsModule } from '../reports/reports.module';
import { AdminReportsController } from './admin-reports.controller';
import { AdminController } from './admin.controller';

@Module({ imports: [PagesModule, AppsModule, ReportsModule], controllers: [AdminController, AdminReportsController] })
export class AdminModule {}
