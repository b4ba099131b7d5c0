import { ExportBatchCommands, type DimseExportBatchData } from '@pacslink/contracts';
import { dimseTarget } from '../worker-targets';
import { commandOf, type PacsProtocol } from './pacs-protocol';

/** DIMSE (PS3.7): C-STORE out, Query/Retrieve in, Modality Worklist; one batch per association. */
export const DimseProtocol: PacsProtocol = {
  type: 'dimse',
  worker: 'dimse-worker',
  capabilitySwitches: { import: 'queryRetrieve', export: 'cStore', worklist: 'mwl' },
  exportMethod: 'C-STORE',
  // The PACS accepts at most maxAssociations associations, and each batch holds one.
  batchSlots: (row) => row.maxAssociations ?? 1,
  exportBatchCommand(row, batch, { defaultCallingAeTitle }) {
    const data: DimseExportBatchData = {
      ...batch,
      target: { ...dimseTarget(row), callingAeTitle: defaultCallingAeTitle },
    };
    return commandOf(ExportBatchCommands.Dimse, data);
  },
  destination: (row) => ({ host: row.host, port: row.port }),
};
