import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, DimseCallerRequests, StorageScpReports } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { DimseCallersService } from './dimse-callers.service';

/** The edge: dimse-worker's `config-service.dimse-callers.list` requests and its Storage SCP's refusals. */
@Injectable()
export class DimseCallersConsumer implements OnModuleInit {
  constructor(
    private readonly consumer: MessageConsumer,
    private readonly service: DimseCallersService,
  ) {}

  onModuleInit(): void {
    const queue = ConsumerQueues.ConfigServiceReports;
    this.consumer.answer(queue, DimseCallerRequests.List, () => this.service.list());
    this.consumer.on(queue, StorageScpReports.Refused, (refusal, context) =>
      this.service.refused(refusal, context.envelope.eventId),
    );
  }
}
