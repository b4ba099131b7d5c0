import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { ServiceEnv } from './service-env';

/**
 * Structured logs (pino): one JSON object per line, with the service's name. Credentials never
 * reach a log line: authorisation headers and every secret-bearing field are censored by path.
 */
const SECRET_KEYS = ['password', 'token', 'clientSecret', 'accessToken', 'authorization'];

/** pino has no recursive wildcard: secret keys are censored up to four levels deep. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]),
];

/** Query parameters that are credentials (config-service's single-use event tickets). */
const CREDENTIAL_QUERY = /([?&](?:ticket)=)[^&#]*/gi;

/** A request URL fit for a log line: credentials in its query replaced by [redacted]. */
export function loggableUrl(url: string): string {
  return url.replace(CREDENTIAL_QUERY, '$1[redacted]');
}

export function loggerParams(service: string, env: ServiceEnv): Params {
  return {
    // Nest 11's router (path-to-regexp 8) wants a named wildcard; nestjs-pino's default is `*`.
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
    pinoHttp: {
      level: env.LOG_LEVEL,
      base: { service },
      redact: { paths: [...REDACTED_PATHS, 'req.query.ticket'], censor: '[redacted]' },
      // pino-http hands a custom serializer the standard serialization of the request.
      serializers: {
        req: (req: { url?: string }) =>
          req.url === undefined ? req : Object.assign(req, { url: loggableUrl(req.url) }),
      },
      autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(req.url ?? '') },
      transport:
        env.LOG_FORMAT === 'pretty'
          ? {
              target: 'pino-pretty',
              options: { singleLine: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' },
            }
          : undefined,
    },
  };
}
