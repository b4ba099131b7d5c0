export { InvalidDicomError } from './invalid-dicom.error';
export type { InstanceAttributes } from './instance-attributes';
export { StorePathError, StudyStore, type StoredInstance, type WriteOptions } from './study-store';
