import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, DimseCallerRequests } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { DimseCallersService } from './dimse-callers.service';

/** The edge: answers dimse-worker's `config-service.dimse-callers.list` requests. */
@Injectable()
export class DimseCallersConsumer implements OnModuleInit {
  constructor(
    private readonly consumer: MessageConsumer,
    private readonly service: DimseCallersService,
  ) {}

  onModuleInit(): void {
    this.consumer.answer(ConsumerQueues.ConfigServiceReports, DimseCallerRequests.List, () =>
      this.service.list(),
    );
  }
}
