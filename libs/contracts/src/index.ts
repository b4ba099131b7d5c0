export * from './topology';
export * from './message-contract';
export * from './events/transfer.events';
export * from './events/pacs-config.events';
export * from './events/worklist.events';
