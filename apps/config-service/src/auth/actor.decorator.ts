import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ANONYMOUS, type Actor } from './actor';
import type { AuthenticatedRequest } from './authenticated-request';

/** The authenticated caller of the request, for the audit log. */
export const CurrentActor = createParamDecorator(
  (_: unknown, context: ExecutionContext): Actor =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().actor ?? ANONYMOUS,
);
