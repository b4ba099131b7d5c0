import {
  BadGatewayException,
  BadRequestException,
  ConflictException,
  type HttpException,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { VALIDATION_PROBLEM_TYPE } from '../http/dto/problem.response';
import type { FieldError } from '../http/validation';

export enum WorklistErrorCode {
  InvalidFilters = 'invalid-filters',
  NotOffered = 'not-offered',
  ServiceUnavailable = 'service-unavailable',
  QueryFailed = 'query-failed',
  TaskNotFound = 'task-not-found',
  /** the task's status does not allow the MPPS step asked for */
  TaskState = 'task-state',
  MppsNotOffered = 'mpps-not-offered',
  /** the MPPS SCP refused the request or did not answer; the task says which */
  MppsFailed = 'mpps-failed',
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
    case WorklistErrorCode.TaskNotFound:
      return new NotFoundException({
        type: `${PROBLEMS}/worklist-task-not-found`,
        title: 'worklist task not found',
        detail: error.message,
      });
    case WorklistErrorCode.TaskState:
      return new ConflictException({
        type: `${PROBLEMS}/worklist-task-state`,
        title: "the task's status does not allow it",
        detail: error.message,
      });
    case WorklistErrorCode.MppsNotOffered:
      return new ConflictException({
        type: `${PROBLEMS}/mpps-not-offered`,
        title: 'the configuration does not offer MPPS',
        detail: error.message,
      });
    case WorklistErrorCode.MppsFailed:
      return new BadGatewayException({
        type: `${PROBLEMS}/mpps-failed`,
        title: 'the MPPS SCP did not do it',
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
