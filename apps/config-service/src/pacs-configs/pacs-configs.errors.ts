import {
  BadRequestException,
  ConflictException,
  type HttpException,
  NotFoundException,
  PreconditionFailedException,
} from '@nestjs/common';

export enum PacsConfigErrorCode {
  NotFound = 'not-found',
  AeTitleTaken = 'ae-title-taken',
  TypeFixed = 'type-fixed',
  Stale = 'stale',
  SecretRequired = 'secret-required',
}

/** What can go wrong with a PACS configuration, independent of the transport. */
export class PacsConfigError extends Error {
  override readonly name = 'PacsConfigError';

  constructor(
    readonly code: PacsConfigErrorCode,
    message: string,
    /** The request field at fault, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

const PROBLEMS = 'https://pacslink.dev/problems';

/** The one mapping of these errors to HTTP (problem+json through the global filter). */
export function toHttpException(error: PacsConfigError): HttpException {
  const errors = error.field ? { errors: [{ field: error.field, message: error.message }] } : {};
  switch (error.code) {
    case PacsConfigErrorCode.NotFound:
      return new NotFoundException({
        type: `${PROBLEMS}/pacs-config-not-found`,
        title: 'PACS configuration not found',
        detail: error.message,
      });
    case PacsConfigErrorCode.AeTitleTaken:
      return new ConflictException({
        type: `${PROBLEMS}/ae-title-taken`,
        title: 'AE title already used',
        detail: error.message,
        ...errors,
      });
    case PacsConfigErrorCode.TypeFixed:
      return new ConflictException({
        type: `${PROBLEMS}/pacs-config-type-fixed`,
        title: 'type is fixed at creation',
        detail: error.message,
        ...errors,
      });
    case PacsConfigErrorCode.Stale:
      return new PreconditionFailedException({
        type: `${PROBLEMS}/stale-etag`,
        title: 'precondition failed',
        detail: error.message,
      });
    case PacsConfigErrorCode.SecretRequired:
      return new BadRequestException({
        type: `${PROBLEMS}/secret-required`,
        title: 'invalid request',
        detail: error.message,
        ...errors,
      });
  }
}
