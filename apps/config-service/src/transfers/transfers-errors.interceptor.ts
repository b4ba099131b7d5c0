import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { catchError, type Observable, throwError } from 'rxjs';
import { TransferError, toHttpException } from './transfers.errors';

/** The edge: TransferError becomes its HTTP answer; anything else goes on to the global filter. */
@Injectable()
export class TransfersErrorsInterceptor implements NestInterceptor {
  intercept(_: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next
      .handle()
      .pipe(
        catchError((error: unknown) =>
          throwError(() => (error instanceof TransferError ? toHttpException(error) : error)),
        ),
      );
  }
}
