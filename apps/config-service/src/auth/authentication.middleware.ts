import { Injectable } from '@nestjs/common';
import type { NextFunction, Response } from 'express';
import type { AuthenticatedRequest } from './authenticated-request';
import { Authenticator } from './authenticator';
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

/**
 * Authentication for every request the HTTP server receives, installed on Express before any route
 * (the API, its docs and whatever is added later): a request either matches a public route exactly
 * or carries a caller; otherwise 401 problem+json, audited. What the caller may do is RolesGuard's.
 */
@Injectable()
export class AuthenticationMiddleware {
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
    const result = await this.authenticator.authenticate({
      method: request.method,
      path,
      authorization: request.headers.authorization,
      ticket: ticketOf(rawUrl),
    });
    if (result.ok) {
      request.actor = result.actor;
      return true;
    }
    if (result.status === 401) {
      await this.refusals.record({
        status: 401,
        method: request.method,
        path,
        reason: result.detail,
        remoteAddress: request.socket.remoteAddress,
      });
    }
    // Answered here, before any route: the Nest exception filter is not on this path.
    response
      .status(result.status)
      .set(result.status === 401 ? { 'www-authenticate': 'Bearer realm="pacslink"' } : {})
      .type('application/problem+json')
      .send(
        JSON.stringify({
          type: 'about:blank',
          title: result.title,
          status: result.status,
          detail: result.detail,
        }),
      );
    return false;
  }
}
