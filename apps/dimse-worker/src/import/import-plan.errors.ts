/**
 * What the PACS answered cannot make a plan (an answer without a UID the import needs, more
 * instances than one import may bring): asking again gets the same answer, so it is permanent.
 */
export class ImportPlanError extends Error {
  override readonly name = 'ImportPlanError';
}
