// @pacslink/egress: where workers may connect to as a PACS, checked on the resolved address at
// connect time (issue 9, docs/security.md "Egress").
export * from './egress.errors';
export * from './egress-env';
export * from './egress-guard';
export * from './egress-policy';
export * from './egress.module';
