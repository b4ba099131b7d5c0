import { Module } from '@nestjs/common';
import { PacsCircuitMetrics } from './pacs-circuit.metrics';
import { PacsCircuitsRepository } from './pacs-circuits.repository';

/**
 * The circuits of the PACS configurations (pacs_circuit): the transfers feature opens and closes
 * them; the PACS configurations feature shows them and closes one whose configuration changed.
 */
@Module({
  providers: [PacsCircuitsRepository, PacsCircuitMetrics],
  exports: [PacsCircuitsRepository],
})
export class PacsCircuitsModule {}
