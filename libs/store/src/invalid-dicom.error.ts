/** A file refused by the study store; the message is the reason, for the person who sent it. */
export class InvalidDicomError extends Error {
  override readonly name = 'InvalidDicomError';

  constructor(
    message: string,
    /** The refused file's SOP Instance UID, when it was read before the refusal. */
    readonly sopInstanceUid?: string,
  ) {
    super(message);
  }
}
