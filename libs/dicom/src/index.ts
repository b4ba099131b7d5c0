export * from './ae-title';
export * from './specific-character-set';
export * from './query-filters';
export * from './uid';
export * from './uid.validator';
export * from './character-sets';
export * from './peer-text';
export * from './patient-mask';
