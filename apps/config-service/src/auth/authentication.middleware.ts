import { Injectable, Logger } from '@nestjs/common';
import type { NextFunction, Response } from 'express';
import type { AuthenticatedRequest } from './authenticated-request';
import { type Authentication, Authenticator } from './authenticator';
import { isPublicRoute, type PublicRouteOptions } from './public-routes';
import { RefusalAudit } from './refusal-audit';

function pathOf(rawUrl: string): string {
  const query = rawUrl.indexOf('?');
  return query < 0 ? rawUrl : rawUrl.slice(0, query);
}

function ticketOf(rawUrl: string): string | undefined {
  const query = rawUrl.indexOf('?');
  if (query < 0) return undefined;
  return new URLSearchParams(rawUrl.slice(query + 1)).get('ticket') ?? undefined;
}

/** A refusal answered here, before any route. */
interface Refused {
  status: 401 | 403 | 503;
  title: string;
  detail: string;
}

/** The caller could not be checked (the database that keeps event tickets is away). */
const UNCHECKABLE: Authentication = {
  ok: false,
  status: 503,
  title: 'authentication unavailable',
  detail: 'the credentials cannot be checked right now; try again shortly',
};

/**
 * A caller with neither role may do nothing. RolesGuard sees Nest's routes only: what Express serves
 * beside them (the API docs, the not-found answer) has no role to check, so such a caller stops here.
 */
const NO_ROLE: Refused = {
  status: 403,
  title: 'forbidden',
  detail: 'every route needs the operator or admin role; the caller has none',
};

/**
 * Authentication for every request the HTTP server receives, installed on Express before any route
 * (the API, its docs and whatever is added later): a request either matches a public route exactly
 * or carries a caller with a role; otherwise 401 (403 for a caller without a role) problem+json,
 * audited. Which role a route needs is RolesGuard's.
 */
@Injectable()
export class AuthenticationMiddleware {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly authenticator: Authenticator,
    private readonly refusals: RefusalAudit,
  ) {}

  handler(options: PublicRouteOptions) {
    return (request: AuthenticatedRequest, response: Response, next: NextFunction): void => {
      this.handle(request, response, options).then((proceed) => proceed && next(), next);
    };
  }

  private async handle(
    request: AuthenticatedRequest,
    response: Response,
    options: PublicRouteOptions,
  ): Promise<boolean> {
    // Express keeps the request line's target in originalUrl, untouched by routing.
    const rawUrl = request.originalUrl;
    if (isPublicRoute(request.method, rawUrl, options)) {
      request.publicRoute = true;
      return true;
    }
    const path = pathOf(rawUrl);
    let result: Authentication;
    try {
      result = await this.authenticator.authenticate({
        method: request.method,
        path,
        authorization: request.headers.authorization,
        ticket: ticketOf(rawUrl),
      });
    } catch (error) {
      // A ticket is redeemed in Postgres: with the database away no caller can be checked. Answered
      // as what it is, not as Express's default error page (which is not problem+json).
      this.logger.error({ msg: 'could not authenticate a request', reason: (error as Error).message });
      result = UNCHECKABLE;
    }
    if (result.ok && result.actor.roles.length > 0) {
      request.actor = result.actor;
      return true;
    }
    const refused: Refused = result.ok ? NO_ROLE : result;
    if (refused.status !== 503) {
      await this.refusals.record(
        {
          status: refused.status,
          method: request.method,
          path,
          reason: refused.detail,
          remoteAddress: request.socket.remoteAddress,
        },
        result.ok ? result.actor : undefined,
      );
    }
    // Answered here, before any route: the Nest exception filter is not on this path.
    response
      .status(refused.status)
      .set(refused.status === 401 ? { 'www-authenticate': 'Bearer realm="pacslink"' } : {})
      .type('application/problem+json')
      .send(
        JSON.stringify({
          type: 'about:blank',
          title: refused.title,
          status: refused.status,
          detail: refused.detail,
        }),
      );
    return false;
  }
}
