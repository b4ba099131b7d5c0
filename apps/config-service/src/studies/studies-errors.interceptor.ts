import type { IncomingMessage } from 'node:http';
import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { catchError, type Observable, throwError } from 'rxjs';
import { StudyError, toHttpException } from './studies.errors';
import { discardRestThenClose } from './upload-body';

/**
 * The edge: StudyError becomes its HTTP answer; anything else goes on to the global filter. An
 * upload refused before its body was read to the end (415, 400, a server error) does not read the
 * rest: Node would otherwise drain it all, however large, to keep the connection.
 */
@Injectable()
export class StudiesErrorsInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<IncomingMessage>();
    return next.handle().pipe(
      catchError((error: unknown) => {
        discardRestThenClose(request);
        return throwError(() => (error instanceof StudyError ? toHttpException(error) : error));
      }),
    );
  }
}
