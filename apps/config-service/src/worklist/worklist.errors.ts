import {
  BadGatewayException,
  BadRequestException,
  ConflictException,
  type HttpException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { VALIDATION_PROBLEM_TYPE } from '../http/dto/problem.response';
import type { FieldError } from '../http/validation';

export enum WorklistErrorCode {
  InvalidFilters = 'invalid-filters',
  NotOffered = 'not-offered',
  ServiceUnavailable = 'service-unavailable',
  QueryFailed = 'query-failed',
}

/** What can go wrong with the worklist, independent of the transport. */
export class WorklistError extends Error {
  override readonly name = 'WorklistError';

  constructor(
    readonly code: WorklistErrorCode,
    message: string,
    /** Each bad request field, when the request is at fault. */
    readonly fields: readonly FieldError[] = [],
  ) {
    super(message);
  }
}

const PROBLEMS = 'https://pacslink.dev/problems';

/** The one mapping of these errors to HTTP (problem+json through the global filter). */
export function toHttpException(error: WorklistError): HttpException {
  switch (error.code) {
    case WorklistErrorCode.InvalidFilters:
      return new BadRequestException({
        type: VALIDATION_PROBLEM_TYPE,
        title: 'invalid request',
        detail: error.message,
        errors: error.fields,
      });
    case WorklistErrorCode.NotOffered:
      return new ConflictException({
        type: `${PROBLEMS}/worklist-not-offered`,
        title: 'the configuration does not offer a worklist',
        detail: error.message,
      });
    case WorklistErrorCode.ServiceUnavailable:
      return new ServiceUnavailableException({
        type: `${PROBLEMS}/worklist-unavailable`,
        title: 'worklist service unavailable',
        detail: error.message,
      });
    case WorklistErrorCode.QueryFailed:
      return new BadGatewayException({
        type: `${PROBLEMS}/worklist-query-failed`,
        title: 'the worklist query failed',
        detail: error.message,
      });
  }
}
