import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { hasRole, type Role } from './actor';
import type { AuthenticatedRequest } from './authenticated-request';
import { RefusalAudit } from './refusal-audit';
import { REQUIRED_ROLE } from './requires-role.decorator';

/**
 * What the caller may do: the role a route names (@RequiresRole) against the caller's roles; 403
 * otherwise, audited. A route that names no role is refused for everyone, so a controller added
 * without one is closed rather than open (and RouteRolesCheck stops the service from starting).
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly refusals: RefusalAudit,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (request.publicRoute) return true;
    const required = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, [
      context.getHandler(),
      context.getClass(),
    ]);
    const actor = request.actor;
    if (required !== undefined && actor !== undefined && hasRole(actor, required)) return true;
    const detail =
      required === undefined
        ? 'this route declares no role, so nobody may call it'
        : `this needs the ${required} role; the caller has ${actor?.roles.length ? actor.roles.join(', ') : 'none'}`;
    await this.refusals.record(
      {
        status: 403,
        method: request.method,
        path: request.originalUrl.split('?')[0],
        reason: detail,
        remoteAddress: request.socket.remoteAddress,
      },
      actor,
    );
    throw new ForbiddenException({ title: 'forbidden', detail });
  }
}
