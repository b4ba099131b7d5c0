import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

/**
 * Every error leaves as RFC 9457 `application/problem+json`. An unexpected error is logged with
 * its stack and answered as a plain 500 without internals.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemDetailsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const problem = this.toProblem(exception);
    response.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown): ProblemDetails {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const fromBody = typeof body === 'object' && body !== null ? (body as Partial<ProblemDetails>) : {};
      return {
        type: fromBody.type ?? 'about:blank',
        title: fromBody.title ?? HttpStatus[status]?.replace(/_/g, ' ').toLowerCase() ?? 'error',
        status,
        detail: fromBody.detail ?? (typeof body === 'string' ? body : exception.message),
        ...(fromBody.errors ? { errors: fromBody.errors } : {}),
      };
    }
    this.logger.error({ msg: 'unhandled error', err: exception });
    return {
      type: 'about:blank',
      title: 'internal server error',
      status: 500,
      detail: 'an unexpected error occurred',
    };
  }
}
