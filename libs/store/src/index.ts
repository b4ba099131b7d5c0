export { FileSyncGroup } from './file-sync-group';
export { fileIoOf, storeIo, useStoreIo, type FileIo, type StoreIoMode } from './file-io';
export { FileTooLargeError, InvalidDicomError } from './invalid-dicom.error';
export type { InstanceAttributes } from './instance-attributes';
export {
  StorePathError,
  StudyStore,
  TEMPORARY_FILE_ABANDONED_MS,
  TEMPORARY_FILE_HEARTBEAT_MS,
  type StoredInstance,
  type StudyStoreOptions,
  type WriteOptions,
} from './study-store';
export { currentOwner, temporaryFileName, type TemporaryFileOwner } from './temporary-files';
export {
  chooseStoreIo,
  configureStoreIo,
  filesystemTypeOf,
  NETWORK_FILESYSTEMS,
  STORE_IO_SETTINGS,
  type StoreIoChoice,
  type StoreIoSetting,
  storeIoLogLine,
} from './store-io-mode';
export { STORABLE_TRANSFER_SYNTAXES } from './transfer-syntax';
