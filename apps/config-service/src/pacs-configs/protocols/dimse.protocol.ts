import {
  ConnectionTestRequests,
  ExportBatchCommands,
  ImportBatchCommands,
  QueryRequests,
  WorklistRequests,
  type DimseConnectionTestData,
  type DimseExportBatchData,
  type DimseImportBatchData,
  type DimseImportPlanData,
  type DimseQueryData,
  type WorklistQueryData,
  type WorklistTargetData,
} from '@pacslink/contracts';
import type { SpecificCharacterSet } from '@pacslink/dicom';
import type { PacsConfig } from '../pacs-config.entity';
import { dimseTarget, moveDestinationOf } from '../worker-targets';
import { commandOf, type PacsProtocol } from './pacs-protocol';

/** PS3.4 C.6: the Query/Retrieve Level of each query level. */
const QUERY_RETRIEVE_LEVEL = { study: 'STUDY', series: 'SERIES', instance: 'IMAGE' } as const;

/** A C-FIND, C-GET or C-MOVE calls from the configuration's queryAeTitle, else the default. */
function queryTarget(row: PacsConfig, defaultCallingAeTitle: string): DimseImportPlanData['target'] {
  return { ...dimseTarget(row), callingAeTitle: row.queryAeTitle ?? defaultCallingAeTitle };
}

/**
 * The configuration's worklist and MPPS SCP (one AE, as a RIS offers both): called from
 * queryAeTitle else the default, whose AE title an MPPS also names as its Performed Station AE Title.
 */
function worklistTarget(row: PacsConfig, defaultCallingAeTitle: string): WorklistTargetData {
  // mwl_encoding is NOT NULL on DIMSE rows and checked against the defined terms on write.
  return { ...queryTarget(row, defaultCallingAeTitle), mwlEncoding: row.mwlEncoding as SpecificCharacterSet };
}

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
  // get and get-then-move start with C-GET; a fallback switches the transfer to C-MOVE.
  importMethod: (row) => (row.retrieveMethod === 'move' ? 'C-MOVE' : 'C-GET'),
  importPlanCommand(row, plan, { defaultCallingAeTitle }) {
    const data: DimseImportPlanData = { ...plan, target: queryTarget(row, defaultCallingAeTitle) };
    return commandOf(ImportBatchCommands.DimsePlan, data);
  },
  importBatchCommand(row, batch, { defaultCallingAeTitle, method }) {
    const operation = method === 'C-MOVE' ? 'C-MOVE' : 'C-GET';
    const data: DimseImportBatchData = {
      ...batch,
      target: queryTarget(row, defaultCallingAeTitle),
      operation,
      moveOnGetFailure: row.retrieveMethod === 'get-then-move' && operation === 'C-GET',
      moveDestinationAeTitle: moveDestinationOf(row),
    };
    return commandOf(ImportBatchCommands.Dimse, data);
  },
  queryCommand(row, { level, keys, returnKeys, limit, offset }, { defaultCallingAeTitle }) {
    const data: DimseQueryData = {
      ...queryTarget(row, defaultCallingAeTitle),
      level: QUERY_RETRIEVE_LEVEL[level],
      keys,
      returnKeys,
      limit,
      offset,
    };
    return commandOf(QueryRequests.Dimse, data);
  },
  worklistQueryCommand(row, filters, { defaultCallingAeTitle }) {
    const data: WorklistQueryData = {
      pacsConfigId: row.id,
      target: worklistTarget(row, defaultCallingAeTitle),
      filters,
    };
    return commandOf(WorklistRequests.Query, data);
  },
  mppsTarget: (row, { defaultCallingAeTitle }) =>
    row.mpps === true ? worklistTarget(row, defaultCallingAeTitle) : undefined,
  async connectionTestCommand(row, { callingAeTitle }) {
    const data: DimseConnectionTestData = { ...dimseTarget(row), callingAeTitle: await callingAeTitle() };
    return commandOf(ConnectionTestRequests.Dimse, data);
  },
  destination: (row) => ({ host: row.host, port: row.port }),
};
