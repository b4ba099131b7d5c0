/** A file refused by the study store; the message is the reason, for the person who sent it. */
export class InvalidDicomError extends Error {
  override readonly name = 'InvalidDicomError';
}
