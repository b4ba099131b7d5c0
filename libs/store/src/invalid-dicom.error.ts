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

/** A file larger than the caller's `maxBytes`: refused for its size, not for its content. */
export class FileTooLargeError extends Error {
  override readonly name = 'FileTooLargeError';

  constructor(readonly maxBytes: number) {
    super(`the file is larger than the ${maxBytes}-byte limit`);
  }
}
