import type { Server } from 'node:http';
import { type INestApplication, RequestMethod } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AuthenticationMiddleware } from '../auth/authentication.middleware';
import type { ConfigServiceEnv } from '../config';
import { ProblemDetailsFilter } from './problem-details.filter';
import { applyServerTimeouts } from './server-timeouts';
import { createValidationPipe } from './validation';

export const API_PREFIX = 'api/v1';

/** The public REST API: `/api/v1`, problem+json errors, OpenAPI at `/api/docs` and `/api/docs-json`. */
export function configureHttp(
  app: INestApplication,
  env: Pick<
    ConfigServiceEnv,
    'JSON_BODY_LIMIT' | 'API_DOCS_PUBLIC' | 'HTTP_IDLE_TIMEOUT_MS' | 'HTTP_HEADERS_TIMEOUT_MS'
  >,
): void {
  const express = app as NestExpressApplication;
  applyServerTimeouts(app.getHttpServer() as Server, {
    idleMs: env.HTTP_IDLE_TIMEOUT_MS,
    headersMs: env.HTTP_HEADERS_TIMEOUT_MS,
  });
  // Routes match their spelling exactly: authentication does not depend on it, but no alias of a
  // route should exist. Express's router was created (by Nest) with the defaults before we get here
  // and reads these two properties when each route is registered, which happens later, at init.
  const router = (
    express.getHttpAdapter().getInstance() as unknown as {
      router: { caseSensitive: boolean; strict: boolean };
    }
  ).router;
  router.caseSensitive = true;
  router.strict = true;
  // First of all: every request, whatever its path, is authenticated before routing (the docs included).
  app.use(app.get(AuthenticationMiddleware).handler({ docsPublic: env.API_DOCS_PUBLIC === 'true' }));
  express.useBodyParser('json', {
    limit: env.JSON_BODY_LIMIT,
    type: ['application/json', 'application/*+json'],
  });
  express.disable('x-powered-by');
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health/live', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(createValidationPipe());
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('pacslink')
      .setDescription(
        'PACS configurations, settings, study store and transfers. Errors are application/problem+json.',
      )
      .setVersion('1')
      .addBearerAuth({
        type: 'http',
        scheme: 'bearer',
        description: 'an API key (API_KEYS) or an OpenID Connect access token (JWT) from OIDC_ISSUER_URL',
      })
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
}
