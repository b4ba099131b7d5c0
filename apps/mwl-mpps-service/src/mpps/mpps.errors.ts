import { MppsErrorCodes } from '@pacslink/contracts';

type MppsErrorCode = (typeof MppsErrorCodes)[keyof typeof MppsErrorCodes];

/** A refused MPPS request; `code` travels in the RPC reply for config-service's edge to map. */
export class MppsError extends Error {
  override readonly name = 'MppsError';

  constructor(
    readonly code: MppsErrorCode,
    message: string,
  ) {
    super(message);
  }
}
