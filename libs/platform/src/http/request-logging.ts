import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import { Store, storage } from 'nestjs-pino/storage';
import { pinoHttp, type Options } from 'pino-http';

export const REQUEST_LOGGING = Symbol('REQUEST_LOGGING');

export type RequestLogging = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * pino-http as the server's first middleware (runService installs it): every request gets its id
 * and its access log line, also one that a middleware ahead of the router refuses
 * (config-service's authentication) or that no route matches, and every line logged while it is
 * handled carries request_id: nestjs-pino's Logger takes the request's logger from the store this
 * binds. nestjs-pino's own middleware would run after every app.use middleware, too late for
 * those; LoggerModule is given useExisting, so it only binds again what this bound.
 */
export function requestLogging(params: Params): RequestLogging {
  const http = pinoHttp(params.pinoHttp as Options);
  return (req, res, next) => http(req, res, () => storage.run(new Store(req.log), next));
}
