import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY, scrapedGauge } from '@pacslink/platform';
import { TransfersRepository } from './transfers.repository';

/** Finished transfers count in `pacslink_transfers` for this long after they finished. */
export const FINISHED_TRANSFERS_WINDOW_SECONDS = 3_600;

/**
 * The transfer gauges, read from Postgres at every scrape (one grouped query each), so every
 * config-service replica shows the one backlog they share. `pacs_config` is the configuration's
 * id, not its name: a name can be changed (a series would split in two), the id is what the API,
 * the events and `pacslink_pacs_circuit_open` name it by.
 *
 * - `pacslink_transfer_batches{state,pacs_config}`: open batches, state pending (waiting for a
 *   free association: the backlog the workers scale on), dispatched or running.
 * - `pacslink_transfers{state,direction,method,pacs_config}`: queued and running transfers, and
 *   those that completed, failed or were cancelled in the last hour.
 */
@Injectable()
export class TransferMetrics {
  private readonly logger = new Logger(TransferMetrics.name);

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, transfers: TransfersRepository) {
    scrapedGauge(registry, {
      name: 'pacslink_transfer_batches',
      help: 'Open transfer batches by state (pending: waiting for an association slot; dispatched; running) and PACS configuration id',
      labelNames: ['state', 'pacs_config'],
      logger: this.logger,
      read: async () =>
        (await transfers.openBatchCounts()).map(({ pacsConfigId, state, count }) => ({
          labels: { state, pacs_config: pacsConfigId },
          value: count,
        })),
    });
    scrapedGauge(registry, {
      name: 'pacslink_transfers',
      help: `Transfers by state, direction, method and PACS configuration id: every queued or running one, and those that finished in the last ${FINISHED_TRANSFERS_WINDOW_SECONDS} s`,
      labelNames: ['state', 'direction', 'method', 'pacs_config'],
      logger: this.logger,
      read: async () =>
        (await transfers.transferCounts(FINISHED_TRANSFERS_WINDOW_SECONDS)).map((row) => ({
          labels: {
            state: row.status,
            direction: row.direction,
            method: row.method,
            pacs_config: row.pacsConfigId,
          },
          value: row.count,
        })),
    });
  }
}
