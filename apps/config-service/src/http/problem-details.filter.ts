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
    const clientError = asClientError(exception);
    if (clientError) return clientError;
    // Name, message and stack only: a driver error carries the query's parameters, which may hold
    // secrets or patient data.
    const { name, message, stack } = exception instanceof Error ? exception : new Error(String(exception));
    this.logger.error({ msg: 'unhandled error', error: { name, message, stack } });
    return {
      type: 'about:blank',
      title: 'internal server error',
      status: 500,
      detail: 'an unexpected error occurred',
    };
  }
}

/**
 * Errors of Express middleware (body-parser: body too large, malformed JSON, bad charset) are
 * http-errors with a 4xx `status` and a message meant for the client.
 */
function asClientError(exception: unknown): ProblemDetails | undefined {
  if (typeof exception !== 'object' || exception === null) return undefined;
  const { status, expose, message } = exception as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499 || expose !== true) return undefined;
  return {
    type: 'about:blank',
    title: HttpStatus[status]?.replace(/_/g, ' ').toLowerCase() ?? 'bad request',
    status,
    detail: typeof message === 'string' ? message : 'the request was refused',
  };
}
