export * from './export-batch-runner';
export * from './outcome-reporter';
