import {
  BadGatewayException,
  BadRequestException,
  ConflictException,
  type HttpException,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { FieldError } from '../http/validation';
import { VALIDATION_PROBLEM_TYPE } from '../http/dto/problem.response';

export enum QueryErrorCode {
  InvalidFilters = 'invalid-filters',
  NotImportable = 'not-importable',
  TransfersOff = 'transfers-off',
  WorkerUnavailable = 'worker-unavailable',
  WorkerFailed = 'worker-failed',
}

/** What can go wrong with a PACS query, independent of the transport. */
export class QueryError extends Error {
  override readonly name = 'QueryError';

  constructor(
    readonly code: QueryErrorCode,
    message: string,
    /** Each bad request field, when the request is at fault. */
    readonly fields: readonly FieldError[] = [],
  ) {
    super(message);
  }
}

const PROBLEMS = 'https://pacslink.dev/problems';

/** The one mapping of these errors to HTTP (problem+json through the global filter). */
export function toHttpException(error: QueryError): HttpException {
  switch (error.code) {
    case QueryErrorCode.InvalidFilters:
      return new BadRequestException({
        type: VALIDATION_PROBLEM_TYPE,
        title: 'invalid request',
        detail: error.message,
        errors: error.fields,
      });
    case QueryErrorCode.NotImportable:
      return new ConflictException({
        type: `${PROBLEMS}/import-not-offered`,
        title: 'the configuration does not offer import',
        detail: error.message,
      });
    case QueryErrorCode.TransfersOff:
      return new ConflictException({
        type: `${PROBLEMS}/transfers-disabled`,
        title: 'transfers are switched off',
        detail: error.message,
      });
    case QueryErrorCode.WorkerUnavailable:
      return new ServiceUnavailableException({
        type: `${PROBLEMS}/worker-unavailable`,
        title: 'worker unavailable',
        detail: error.message,
      });
    case QueryErrorCode.WorkerFailed:
      return new BadGatewayException({
        type: `${PROBLEMS}/query-failed`,
        title: 'the PACS query failed',
        detail: error.message,
      });
  }
}
