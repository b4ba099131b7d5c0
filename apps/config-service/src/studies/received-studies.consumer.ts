import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ConsumerQueues, StorageScpReports } from '@pacslink/contracts';
import { MessageConsumer } from '@pacslink/messaging';
import { waitForDatabase } from '@pacslink/persistence';
import { ReceivedStudiesService } from './received-studies.service';

/**
 * How long one delivery waits, held, for the database to come back: rejected back to the queue
 * instead, a report would spend its delivery limit in seconds of outage and be dead-lettered,
 * leaving its files unindexed (as for export reports, issue 10 defect 9).
 */
const DATABASE_WAIT_MS = 5 * 60_000;
/** One warning per this many waits of one delivery (the first always). */
const WARN_EVERY_WAITS = 10;

/** The edge: what dimse-worker's Storage SCP stored in an association (registered before the consumer starts). */
@Injectable()
export class ReceivedStudiesConsumer implements OnModuleInit {
  private readonly logger = new Logger(ReceivedStudiesConsumer.name);

  constructor(
    private readonly consumer: MessageConsumer,
    private readonly service: ReceivedStudiesService,
  ) {}

  onModuleInit(): void {
    this.consumer.on(
      ConsumerQueues.ConfigServiceReports,
      StorageScpReports.Received,
      async (report, context) => {
        await waitForDatabase(() => this.service.received(report), {
          boundMs: DATABASE_WAIT_MS,
          signal: context.signal,
          onWait: (error, retries, delayMs) => {
            if (retries % WARN_EVERY_WAITS !== 1) return;
            this.logger.warn({
              msg: 'database unavailable; holding the Storage SCP report and trying again',
              associationId: report.associationId,
              retries,
              delayMs,
              reason: error instanceof Error ? error.message : String(error),
            });
          },
        });
      },
    );
  }
}
