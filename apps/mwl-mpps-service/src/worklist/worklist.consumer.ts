import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, MppsErrorCodes, WorklistRequests } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { MppsError } from '../mpps/mpps.errors';
import { WorklistQueryService } from './worklist-query.service';
import { WorklistTasksRepository } from './worklist-tasks.repository';

/** The edge: answers `mwl.query`, `mwl.tasks.list` and `mwl.tasks.get` requests (registered before the consumer starts). */
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
    this.consumer.answer(ConsumerQueues.MwlMppsCommands, WorklistRequests.GetTask, async ({ taskId }) => {
      const task = await this.tasks.find(taskId);
      if (task === undefined) throw new MppsError(MppsErrorCodes.TaskNotFound, `no worklist task ${taskId}`);
      return task;
    });
  }
}
