import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest } from './api-key.guard';
import { ANONYMOUS, type Actor } from './api-keys';

/** The authenticated caller of the request, for the audit log. */
export const CurrentActor = createParamDecorator(
  (_: unknown, context: ExecutionContext): Actor =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().actor ?? ANONYMOUS,
);
