import {
  BadGatewayException,
  BadRequestException,
  type HttpException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { VALIDATION_PROBLEM_TYPE } from '../http/dto/problem.response';

export enum ConnectionTestErrorCode {
  CallingAeTitleNotLocal = 'calling-ae-title-not-local',
  WorkerUnavailable = 'worker-unavailable',
  WorkerFailed = 'worker-failed',
}

/** What can go wrong around a connection test (a failed connection itself is a 200 answer). */
export class ConnectionTestError extends Error {
  override readonly name = 'ConnectionTestError';

  constructor(
    readonly code: ConnectionTestErrorCode,
    message: string,
    /** The request field at fault, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

const PROBLEMS = 'https://pacslink.dev/problems';

/** The one mapping of these errors to HTTP (problem+json through the global filter). */
export function toHttpException(error: ConnectionTestError): HttpException {
  switch (error.code) {
    case ConnectionTestErrorCode.CallingAeTitleNotLocal:
      return new BadRequestException({
        type: VALIDATION_PROBLEM_TYPE,
        title: 'invalid request',
        detail: error.message,
        errors: [{ field: error.field ?? 'callingAeTitle', message: error.message }],
      });
    case ConnectionTestErrorCode.WorkerUnavailable:
      return new ServiceUnavailableException({
        type: `${PROBLEMS}/worker-unavailable`,
        title: 'worker unavailable',
        detail: error.message,
      });
    case ConnectionTestErrorCode.WorkerFailed:
      return new BadGatewayException({
        type: `${PROBLEMS}/worker-failed`,
        title: 'the worker could not run the test',
        detail: error.message,
      });
  }
}
