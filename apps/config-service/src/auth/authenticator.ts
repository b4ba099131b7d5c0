import { Injectable } from '@nestjs/common';
import { ANONYMOUS, type Actor } from './actor';
import { ApiKeys } from './api-keys';
import { EventTicketsRepository } from './event-tickets.repository';
import { IssuerUnavailableError, OidcVerifier, TokenRejectedError } from './oidc-verifier';

/** The one route a ticket opens, spelled exactly. */
export const EVENTS_PATH = '/api/v1/events';

export type Authentication =
  { ok: true; actor: Actor } | { ok: false; status: 401 | 503; title: string; detail: string };

export interface Credentials {
  method: string;
  path: string;
  authorization: string | undefined;
  ticket: string | undefined;
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

function refused(detail: string, title = 'authentication failed'): Authentication {
  return { ok: false, status: 401, title, detail };
}

/**
 * Who is calling: an API key or an OIDC token in `Authorization: Bearer …`, or an event ticket on
 * exactly `GET /api/v1/events?ticket=…`. With neither API_KEYS nor OIDC configured (development
 * only) every caller is `anonymous`.
 */
@Injectable()
export class Authenticator {
  constructor(
    private readonly apiKeys: ApiKeys,
    private readonly tickets: EventTicketsRepository,
    private readonly oidc: OidcVerifier | null,
  ) {}

  get enabled(): boolean {
    return this.apiKeys.enabled || this.oidc !== null;
  }

  async authenticate(credentials: Credentials): Promise<Authentication> {
    if (!this.enabled) return { ok: true, actor: ANONYMOUS };
    const { authorization, ticket } = credentials;
    if (authorization === undefined || authorization === '') {
      if (ticket !== undefined && credentials.method === 'GET' && credentials.path === EVENTS_PATH)
        return this.redeem(ticket);
      return refused(this.expected(), 'authentication required');
    }
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match)
      return refused(
        `the Authorization header must be "Bearer <${this.credentialName()}>"`,
        'authentication required',
      );
    const token = match[1];
    const byKey = this.apiKeys.authenticate(token);
    if (byKey) return { ok: true, actor: byKey };
    if (this.oidc === null || !JWT.test(token)) return refused(`the ${this.credentialName()} is not valid`);
    try {
      return { ok: true, actor: await this.oidc.verify(token) };
    } catch (error) {
      if (error instanceof TokenRejectedError) return refused(error.message);
      if (error instanceof IssuerUnavailableError)
        return { ok: false, status: 503, title: 'identity provider unavailable', detail: error.message };
      throw error;
    }
  }

  private async redeem(ticket: string): Promise<Authentication> {
    if (ticket.length > 128) return refused('the event ticket is not valid');
    const actor = await this.tickets.redeem(ticket);
    return actor
      ? { ok: true, actor }
      : refused(
          'the event ticket is not valid, already used or expired: ask POST /api/v1/events/tickets for a new one',
        );
  }

  private credentialName(): string {
    return this.oidc === null ? 'API key' : this.apiKeys.enabled ? 'API key or OIDC token' : 'OIDC token';
  }

  private expected(): string {
    return `send "Authorization: Bearer <${this.credentialName()}>"`;
  }
}
