import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConnectionTestRequests, ConsumerQueues } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { ConnectionTestService } from './connection-test.service';

/** The edge: answers `dicomweb.connection-test` requests (registered before the consumer starts). */
@Injectable()
export class ConnectionTestConsumer implements OnModuleInit {
  constructor(
    private readonly consumer: MessageConsumer,
    private readonly service: ConnectionTestService,
  ) {}

  onModuleInit(): void {
    this.consumer.answer(ConsumerQueues.DicomwebWorkerCommands, ConnectionTestRequests.Dicomweb, (data) =>
      this.service.test(data),
    );
  }
}
