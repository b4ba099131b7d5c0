import { type INestApplication, RequestMethod } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ProblemDetailsFilter } from './problem-details.filter';
import { createValidationPipe } from './validation';

export const API_PREFIX = 'api/v1';

/** The public REST API: `/api/v1`, problem+json errors, OpenAPI at `/api/docs` and `/api/docs-json`. */
export function configureHttp(app: INestApplication, jsonBodyLimit = '256kb'): void {
  const express = app as NestExpressApplication;
  express.useBodyParser('json', { limit: jsonBodyLimit, type: ['application/json', 'application/*+json'] });
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
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'one of API_KEYS' })
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
}
