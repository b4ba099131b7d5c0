export * from './ae-title';
export * from './specific-character-set';
export * from './query-filters';
