import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { ApiKeys } from './api-keys';
import { AuthenticationMiddleware } from './authentication.middleware';
import { Authenticator } from './authenticator';
import { EventTicketsController } from './event-tickets.controller';
import { EventTicketsRepository } from './event-tickets.repository';
import { type OidcOptions, OidcVerifier } from './oidc-verifier';
import { RefusalAudit } from './refusal-audit';
import { RolesGuard } from './roles.guard';
import { RouteRolesCheck } from './route-roles.check';

export interface AuthOptions {
  /** API_KEYS, validated at boot (loadConfigServiceEnv). */
  apiKeys: string | undefined;
  oidc: OidcOptions | undefined;
}

/**
 * Who may call (AuthenticationMiddleware, installed on Express by configureHttp so that it runs
 * before every route) and what they may do (RolesGuard on every Nest route).
 */
@Module({})
export class AuthModule {
  static forRoot(options: AuthOptions): DynamicModule {
    const apiKeys = new ApiKeys(options.apiKeys);
    const oidc = options.oidc ? new OidcVerifier(options.oidc) : null;
    if (!apiKeys.enabled && oidc === null)
      new Logger('Auth').warn({
        msg: 'neither API_KEYS nor OIDC_ISSUER_URL is set: the REST API accepts every caller without authentication. Set one before exposing it.',
      });
    return {
      module: AuthModule,
      imports: [DiscoveryModule],
      controllers: [EventTicketsController],
      providers: [
        { provide: ApiKeys, useValue: apiKeys },
        { provide: OidcVerifier, useValue: oidc },
        {
          provide: Authenticator,
          useFactory: (tickets: EventTicketsRepository) => new Authenticator(apiKeys, tickets, oidc),
          inject: [EventTicketsRepository],
        },
        EventTicketsRepository,
        RefusalAudit,
        AuthenticationMiddleware,
        RouteRolesCheck,
        { provide: APP_GUARD, useClass: RolesGuard },
      ],
      exports: [AuthenticationMiddleware],
    };
  }
}
