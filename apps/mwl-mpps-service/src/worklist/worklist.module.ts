import { Module } from '@nestjs/common';
import { WorklistConsumer } from './worklist.consumer';
import { WorklistQueryService } from './worklist-query.service';
import { WorklistTasksRepository } from './worklist-tasks.repository';

@Module({
  providers: [WorklistTasksRepository, WorklistQueryService, WorklistConsumer],
  exports: [WorklistTasksRepository],
})
export class WorklistModule {}
