// @pacslink/secrets: PACS credentials encrypted at rest and on the broker (AES-256-GCM).
export * from './secret-cipher';
export * from './secrets-key';
export * from './secrets.module';
