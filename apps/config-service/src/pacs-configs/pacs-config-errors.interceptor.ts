import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { catchError, type Observable, throwError } from 'rxjs';
import { PacsConfigError, toHttpException } from './pacs-configs.errors';

/** The edge: PacsConfigError becomes its HTTP answer; anything else goes on to the global filter. */
@Injectable()
export class PacsConfigErrorsInterceptor implements NestInterceptor {
  intercept(_: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next
      .handle()
      .pipe(
        catchError((error: unknown) =>
          throwError(() => (error instanceof PacsConfigError ? toHttpException(error) : error)),
        ),
      );
  }
}
