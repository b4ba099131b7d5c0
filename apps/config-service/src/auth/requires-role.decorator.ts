import { SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ProblemResponse, problemContent, unauthorizedResponse } from '../http/dto/problem.response';
import type { Role } from './actor';

export const REQUIRED_ROLE = 'pacslink:required-role';

/**
 * The role a route needs (on a controller for all its routes, on a handler to override). Every route
 * must name one: RolesGuard refuses a route without, and RouteRolesCheck refuses to start. On a
 * controller it also documents the bearer scheme and the 401; on a handler, the 403 it overrides.
 */
export function RequiresRole(role: Role): ClassDecorator & MethodDecorator {
  const forbidden = ApiForbiddenResponse({
    description: `the caller lacks the ${role} role${role === 'operator' ? ' (admin includes operator)' : ''}`,
    content: problemContent(ProblemResponse, {
      type: 'about:blank',
      title: 'forbidden',
      status: 403,
      // A caller with no role at all is refused before any route (AuthenticationMiddleware).
      detail:
        role === 'admin'
          ? 'this needs the admin role; the caller has operator'
          : 'every route needs the operator or admin role; the caller has none',
    }),
  });
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (key === undefined || descriptor === undefined) {
      const type = target as () => unknown;
      SetMetadata(REQUIRED_ROLE, role)(type);
      ApiBearerAuth()(type);
      ApiUnauthorizedResponse(unauthorizedResponse)(type);
      forbidden(type);
      return;
    }
    SetMetadata(REQUIRED_ROLE, role)(target, key, descriptor);
    forbidden(target, key, descriptor);
  };
}
