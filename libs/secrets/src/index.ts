// @pacslink/secrets: PACS credentials encrypted at rest and on the broker (AES-256-GCM), each bound
// to where it may be sent.
export * from './credential-destination';
export * from './secret-cipher';
export * from './secrets-env';
export * from './secrets-key';
export * from './secrets.module';
