import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { catchError, type Observable, throwError } from 'rxjs';
import { PacsConfigError, toHttpException as pacsConfigProblem } from '../pacs-configs/pacs-configs.errors';
import { WorklistError, toHttpException } from './worklist.errors';

/** The edge: this feature's errors (and an unknown configuration, 404) become their HTTP answers. */
@Injectable()
export class WorklistErrorsInterceptor implements NestInterceptor {
  intercept(_: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((error: unknown) =>
        throwError(() => {
          if (error instanceof WorklistError) return toHttpException(error);
          if (error instanceof PacsConfigError) return pacsConfigProblem(error);
          return error;
        }),
      ),
    );
  }
}
