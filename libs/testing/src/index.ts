export * from './run-id';
export * from './services';
export * from './database/test-database';
export * from './broker/management-api';
export * from './broker/test-vhost';
export * from './net/tcp-proxy';
export * from './peers';
export * from './dicom';
