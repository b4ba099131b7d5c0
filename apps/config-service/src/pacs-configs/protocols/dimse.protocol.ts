import {
  ConnectionTestRequests,
  ExportBatchCommands,
  QueryRequests,
  type DimseConnectionTestData,
  type DimseExportBatchData,
  type DimseQueryData,
} from '@pacslink/contracts';
import { dimseTarget } from '../worker-targets';
import { commandOf, type PacsProtocol } from './pacs-protocol';

/** PS3.4 C.6: the Query/Retrieve Level of each query level. */
const QUERY_RETRIEVE_LEVEL = { study: 'STUDY', series: 'SERIES', instance: 'IMAGE' } as const;

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
  queryCommand(row, { level, keys, returnKeys, limit, offset }, { defaultCallingAeTitle }) {
    const data: DimseQueryData = {
      ...dimseTarget(row),
      callingAeTitle: row.queryAeTitle ?? defaultCallingAeTitle,
      level: QUERY_RETRIEVE_LEVEL[level],
      keys,
      returnKeys,
      limit,
      offset,
    };
    return commandOf(QueryRequests.Dimse, data);
  },
  async connectionTestCommand(row, { callingAeTitle }) {
    const data: DimseConnectionTestData = { ...dimseTarget(row), callingAeTitle: await callingAeTitle() };
    return commandOf(ConnectionTestRequests.Dimse, data);
  },
  destination: (row) => ({ host: row.host, port: row.port }),
};
