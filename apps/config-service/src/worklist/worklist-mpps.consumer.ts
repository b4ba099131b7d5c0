import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, MppsCompletionRequests } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { WorklistMppsService } from './worklist-mpps.service';

/** The edge: mwl-mpps-service's `config-service.mpps.completion` requests (automatic completion). */
@Injectable()
export class WorklistMppsConsumer implements OnModuleInit {
  constructor(
    private readonly consumer: MessageConsumer,
    private readonly service: WorklistMppsService,
  ) {}

  onModuleInit(): void {
    this.consumer.answer(ConsumerQueues.ConfigServiceReports, MppsCompletionRequests.Get, (query) =>
      this.service.completionTarget(query),
    );
  }
}
