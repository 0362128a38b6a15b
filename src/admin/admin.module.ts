import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { PagesModule } from '../pages/pages.module';
import { AdminController } from './admin.controller';

@Module({ imports: [PagesModule, AppsModule], controllers: [AdminController] })
export class AdminModule {}
