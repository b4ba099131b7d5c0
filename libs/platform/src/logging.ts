import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { ServiceEnv } from './service-env';

/**
 * Structured logs (pino): one JSON object per line, with the service's name. Credentials never
 * reach a log line: authorisation headers and every secret-bearing field are censored by path.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  '*.password',
  '*.token',
  '*.clientSecret',
  '*.*.password',
  '*.*.token',
  '*.*.clientSecret',
];

export function loggerParams(service: string, env: ServiceEnv): Params {
  return {
    // Nest 11's router (path-to-regexp 8) wants a named wildcard; nestjs-pino's default is `*`.
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
    pinoHttp: {
      level: env.LOG_LEVEL,
      base: { service },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
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
