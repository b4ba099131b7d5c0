import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { catchError, type Observable, throwError } from 'rxjs';
import { StudyError, toHttpException } from './studies.errors';

/** The edge: StudyError becomes its HTTP answer; anything else goes on to the global filter. */
@Injectable()
export class StudiesErrorsInterceptor implements NestInterceptor {
  intercept(_: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next
      .handle()
      .pipe(
        catchError((error: unknown) =>
          throwError(() => (error instanceof StudyError ? toHttpException(error) : error)),
        ),
      );
  }
}
