import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY, scrapedGauge } from '@pacslink/platform';
import { PacsCircuitsRepository } from './pacs-circuits.repository';

/**
 * `pacslink_pacs_circuit_open{pacs_config}`: 1 while a PACS configuration's circuit is open or
 * half-open (its transfers wait, then fail fast), else 0. Read from Postgres at every scrape, so
 * every config-service replica shows the one circuit they share.
 */
@Injectable()
export class PacsCircuitMetrics {
  private readonly logger = new Logger(PacsCircuitMetrics.name);

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, circuits: PacsCircuitsRepository) {
    scrapedGauge(registry, {
      name: 'pacslink_pacs_circuit_open',
      help: "1 while the PACS configuration's circuit is open or half-open (its transfers are not sent), else 0",
      labelNames: ['pacs_config'],
      logger: this.logger,
      read: async () =>
        (await circuits.openness()).map(({ pacsConfigId, open }) => ({
          labels: { pacs_config: pacsConfigId },
          value: open ? 1 : 0,
        })),
    });
  }
}
