import { Module } from '@nestjs/common';
import { GraphBatchController } from './graph-batch.controller';
import { GraphBatchService } from './graph-batch.service';

@Module({ controllers: [GraphBatchController], providers: [GraphBatchService] })
export class GraphBatchModule {}
