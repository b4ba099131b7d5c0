import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, TransferEvents } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { AutoCompletionService } from './auto-completion.service';

/** The edge: `transfer.completed` from pacslink.events, on mwl-mpps-service's own events queue. */
@Injectable()
export class AutoCompletionConsumer implements OnModuleInit {
  constructor(
    private readonly consumer: MessageConsumer,
    private readonly completion: AutoCompletionService,
  ) {}

  onModuleInit(): void {
    this.consumer.on(ConsumerQueues.MwlMppsEvents, TransferEvents.Completed, (event, context) =>
      this.completion.transferCompleted(event, context.envelope.eventId),
    );
  }
}
