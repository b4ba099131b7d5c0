import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, WorklistRequests } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { WorklistQueryService } from './worklist-query.service';
import { WorklistTasksRepository } from './worklist-tasks.repository';

/** The edge: answers `mwl.query` and `mwl.tasks.list` requests (registered before the consumer starts). */
@Injectable()
export class WorklistConsumer implements OnModuleInit {
  constructor(
    private readonly consumer: MessageConsumer,
    private readonly queries: WorklistQueryService,
    private readonly tasks: WorklistTasksRepository,
  ) {}

  onModuleInit(): void {
    this.consumer.answer(ConsumerQueues.MwlMppsCommands, WorklistRequests.Query, (data) =>
      this.queries.query(data),
    );
    this.consumer.answer(ConsumerQueues.MwlMppsCommands, WorklistRequests.ListTasks, (data) =>
      this.tasks.list(data),
    );
  }
}
