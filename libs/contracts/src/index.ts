export * from './topology';
export * from './message-contract';
export * from './events/transfer.events';
export * from './events/pacs-config.events';
export * from './events/worklist.events';
export * from './events/study.events';
export * from './requests/connection-test.requests';
export * from './requests/query.requests';
export * from './requests/dimse-callers.requests';
export * from './requests/worklist.requests';
export * from './requests/mpps.requests';
export * from './commands/export-batch.commands';
export * from './commands/import-batch.commands';
export * from './reports/export-batch.reports';
export * from './reports/storage-scp.reports';

import { PacsConfigEvents } from './events/pacs-config.events';
import { TransferEvents } from './events/transfer.events';
import { WorklistTaskEvents } from './events/worklist.events';
import { StudyEvents } from './events/study.events';
import { StorageScpReports } from './reports/storage-scp.reports';
import { ConnectionTestRequests } from './requests/connection-test.requests';
import { QueryRequests } from './requests/query.requests';
import { DimseCallerRequests } from './requests/dimse-callers.requests';
import { WorklistRequests } from './requests/worklist.requests';
import { MppsCompletionRequests, MppsRequests } from './requests/mpps.requests';
import { ExportBatchCommands } from './commands/export-batch.commands';
import { ImportBatchCommands } from './commands/import-batch.commands';
import { ExportBatchReports } from './reports/export-batch.reports';
import type { MessageContract } from './message-contract';

/** Every contract of the product; a consumer refuses to start if one routed to it has no handler. */
export const allContracts: readonly MessageContract<object>[] = [
  ...Object.values(TransferEvents),
  ...Object.values(WorklistTaskEvents),
  ...Object.values(StudyEvents),
  ...Object.values(PacsConfigEvents),
  ...Object.values(ConnectionTestRequests),
  ...Object.values(QueryRequests),
  ...Object.values(DimseCallerRequests),
  ...Object.values(WorklistRequests),
  ...Object.values(MppsRequests),
  ...Object.values(MppsCompletionRequests),
  ...Object.values(ExportBatchCommands),
  ImportBatchCommands.DimsePlan,
  ImportBatchCommands.Dimse,
  ImportBatchCommands.DicomwebPlan,
  ImportBatchCommands.Dicomweb,
  ...Object.values(ExportBatchReports),
  ...Object.values(StorageScpReports),
];
