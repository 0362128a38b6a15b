import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MessagingModule } from '../messaging/messaging.module';
import { PagesModule } from '../pages/pages.module';
import { PageReportEntity } from './entities/page-report.entity';
import { ReportsController } from './reports.controller';
import { ReportsService } from './reports.service';

// People's reports of conversations; the operators' routes are in src/admin, through ReportsService.
@Module({
  imports: [TypeOrmModule.forFeature([PageReportEntity]), MessagingModule, PagesModule],
  controllers: [ReportsController],
  providers: [ReportsService],
  exports: [ReportsService],
})
export class ReportsModule {}
