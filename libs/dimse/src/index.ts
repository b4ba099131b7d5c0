// @pacslink/dimse: the project's own interface over DIMSE, on its own PS3.8 upper layer.
export { echo, type EchoResult } from './operations/echo.operation';
export { find, type FindQuery } from './operations/find.operation';
export { findWorklist, type WorklistMatch, type WorklistQuery } from './operations/worklist.operation';
export {
  WORKLIST_KEYWORDS,
  WORKLIST_STEP_KEYWORDS,
  type WorklistKeyword,
  type WorklistStepKeyword,
} from './operations/worklist-identifier';
export {
  nCreate,
  nSet,
  type NCreateRequest,
  type NormalizedResult,
  type NSetRequest,
} from './operations/normalized.operation';
export {
  get,
  type GetOptions,
  type GetResult,
  type GetSink,
  type RetrievedInstance,
  type SinkResult,
} from './operations/get.operation';
export { move, type MoveOptions } from './operations/move.operation';
export type { RetrieveOptions, RetrieveQuery, RetrieveResult } from './operations/retrieve';
export type { SubOperationCounts } from './store/command-set';
export { queryKeywords } from './operations/find-identifier';
export type { DimseConnectionOptions, DimseLogger } from './dimse.options';
export {
  DimseError,
  DimseErrorCode,
  isTransientDimseError,
  isUnreachableDimseError,
  type AssociationPhase,
  type DimseErrorDetails,
} from './dimse.errors';
export type { DimsePriority } from './store/command-set';
export type { QueryLevel } from '@pacslink/dicom';
export { ENCODABLE_CHARACTER_SETS, type EncodableCharacterSet } from '@pacslink/dicom';
export { formatStatus, statusClass, statusMeaning, type StatusClass } from './protocol/status';
export {
  store,
  type StoreInstance,
  type StoreOptions,
  type StoreOutcome,
  type StoreOutcomeStatus,
} from './operations/store.operation';
export { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './upper-layer/pdu';
export {
  StorageScp,
  type AssociationSummary,
  type IncomingInstance,
  type ScpAssociationInfo,
  type ScpCaller,
  type StorageScpOptions,
  type StoreResult,
} from './scp/storage-scp';
export type { AssociationEnd } from './upper-layer/ul-acceptor';
