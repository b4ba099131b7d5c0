import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { EVERY_PATH, UNMATCHED_ROUTE, routeTemplateOf } from './http/route-template';
import type { ServiceEnv } from './service-env';
import { traceLogFields } from './tracing/log-fields';

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

/**
 * A DICOM UID (PS3.5 9.1: digits in dot-separated components) standing alone in a URL: a path
 * segment (`/studies/1.2.840...`) or a query value. It names a patient's study.
 */
const UID_IN_URL = /(?<![\w.])[0-9]+(?:\.[0-9]+)+(?![\w.])/g;

/**
 * A request URL fit for a log line: credentials in its query replaced by [redacted], and every
 * DICOM UID by `{uid}`, so that an access log does not say which study was asked for.
 */
export function loggableUrl(url: string): string {
  return url.replace(CREDENTIAL_QUERY, '$1[redacted]').replace(UID_IN_URL, '{uid}');
}

/** The response header that carries the request id (echoed, or the one generated). */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** An incoming request id is kept when it is a plain token; anything else could forge or flood logs. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `X-Request-Id` when it is a sane token (one value, bounded charset and length), else a new UUID. */
export function requestIdOf(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** pino-std-serializers' request, as pino-http hands it to a custom serializer. */
interface SerializedRequest {
  url?: string;
  query?: unknown;
  params?: unknown;
  headers?: Record<string, unknown>;
}

/**
 * The request on a log line: its URL through loggableUrl, the Referer as well (a browser's page
 * URL may name a study), and no `query` or `params` objects, which repeat the URL's values
 * unredacted (and are serialized before routing, when `params` is still empty anyway).
 */
function loggableRequest(req: SerializedRequest): SerializedRequest {
  const loggable = { ...req };
  delete loggable.query;
  delete loggable.params;
  if (loggable.url !== undefined) loggable.url = loggableUrl(loggable.url);
  const referer = loggable.headers?.referer;
  if (typeof referer === 'string') loggable.headers = { ...loggable.headers, referer: loggableUrl(referer) };
  return loggable;
}

export function loggerParams(service: string, env: ServiceEnv): Params {
  return {
    // Nest 11's router (path-to-regexp 8) wants a named wildcard; nestjs-pino's default is `*`.
    forRoutes: [{ path: EVERY_PATH, method: RequestMethod.ALL }],
    // pino-http runs ahead of everything (requestLogging, installed by runService).
    useExisting: true,
    pinoHttp: {
      level: env.LOG_LEVEL,
      base: { service },
      // trace_id and span_id of the active span, on every line logged while it is active.
      mixin: traceLogFields,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // "level":"info", not 30: log pipelines and people read the word.
      formatters: { level: (label) => ({ level: label }) },
      // Every line logged while a request is handled carries request_id; the access log line
      // also carries the request (URL made loggable) and the response.
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const id = requestIdOf(req.headers['x-request-id']);
        res.setHeader(REQUEST_ID_HEADER, id);
        return id;
      },
      quietReqLogger: true,
      customAttributeKeys: { reqId: 'request_id' },
      // The route template once the router has run: the access log line says which route answered
      // without the ids in its URL. pino-http asks again at the response and adds what changed.
      customProps: (req: IncomingMessage) => {
        const route = routeTemplateOf(req);
        return route === UNMATCHED_ROUTE ? {} : { route };
      },
      // pino-http hands a custom serializer the standard serialization of the request.
      serializers: { req: loggableRequest },
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
