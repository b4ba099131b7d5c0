import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, QueryRequests } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { QueryService } from './query.service';

/** The edge: answers `dicomweb.query` requests (registered before the consumer starts). */
@Injectable()
export class QueryConsumer implements OnModuleInit {
  constructor(
    private readonly consumer: MessageConsumer,
    private readonly service: QueryService,
  ) {}

  onModuleInit(): void {
    this.consumer.answer(ConsumerQueues.DicomwebWorkerCommands, QueryRequests.Dicomweb, (data) =>
      this.service.query(data),
    );
  }
}
