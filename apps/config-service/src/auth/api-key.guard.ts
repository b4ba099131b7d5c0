import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import type { Request } from 'express';
import { ANONYMOUS, ApiKeys, type Actor } from './api-keys';

export type AuthenticatedRequest = Request & { actor: Actor };

/**
 * `Authorization: Bearer <key>` on every `/api/v1` route when API_KEYS is set; health, metrics and
 * the API documentation stay open. Without API_KEYS every caller is `anonymous`.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly apiKeys: ApiKeys) {
    if (!apiKeys.enabled) {
      new Logger('Auth').warn({
        msg: 'API_KEYS is not set: the REST API accepts every caller without authentication. Set API_KEYS before exposing it.',
      });
    }
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!this.apiKeys.enabled) {
      request.actor = ANONYMOUS;
      return true;
    }
    if (!request.path.startsWith('/api/v1/')) return true;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new UnauthorizedException({
        title: 'authentication required',
        detail: header
          ? 'the Authorization header must be "Bearer <API key>"'
          : 'send "Authorization: Bearer <API key>"',
      });
    }
    const actor = this.apiKeys.authenticate(match[1]);
    if (!actor)
      throw new UnauthorizedException({ title: 'authentication failed', detail: 'the API key is not valid' });
    request.actor = actor;
    return true;
  }
}
