import {
  ConflictException,
  type HttpException,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';

export enum TransferErrorCode {
  NotFound = 'not-found',
  TransferDisabled = 'transfer-disabled',
  PacsConfigNotFound = 'pacs-config-not-found',
  DirectionNotOffered = 'direction-not-offered',
  StudyNotStored = 'study-not-stored',
  IdempotencyKeyReused = 'idempotency-key-reused',
  NotCancellable = 'not-cancellable',
  NotRetryable = 'not-retryable',
}

/** What can go wrong with a transfer request, independent of the transport. */
export class TransferError extends Error {
  override readonly name = 'TransferError';

  constructor(
    readonly code: TransferErrorCode,
    message: string,
    /** The request field at fault, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

const PROBLEMS = 'https://pacslink.dev/problems';

/** The one mapping of these errors to HTTP (problem+json through the global filter). */
export function toHttpException(error: TransferError): HttpException {
  const body = {
    type: `${PROBLEMS}/transfer-${error.code}`,
    detail: error.message,
    ...(error.field ? { errors: [{ field: error.field, message: error.message }] } : {}),
  };
  switch (error.code) {
    case TransferErrorCode.NotFound:
      return new NotFoundException({ ...body, title: 'transfer not found' });
    case TransferErrorCode.TransferDisabled:
      return new ConflictException({ ...body, title: 'transfers are switched off' });
    case TransferErrorCode.DirectionNotOffered:
      return new ConflictException({ ...body, title: 'the PACS does not offer this direction' });
    case TransferErrorCode.NotCancellable:
      return new ConflictException({ ...body, title: 'the transfer cannot be cancelled' });
    case TransferErrorCode.NotRetryable:
      return new ConflictException({ ...body, title: 'the transfer cannot be retried' });
    case TransferErrorCode.PacsConfigNotFound:
    case TransferErrorCode.StudyNotStored:
      return new UnprocessableEntityException({
        ...body,
        title: 'the request names something that does not exist',
      });
    case TransferErrorCode.IdempotencyKeyReused:
      return new UnprocessableEntityException({
        ...body,
        title: 'Idempotency-Key already used for another request',
      });
  }
}
