import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { applyHeapGrowth } from './heap/heap-growth';
import { REQUEST_LOGGING, type RequestLogging } from './http/request-logging';
import { HttpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { ServiceShutdown } from './shutdown/service-shutdown';
import { stopTracing } from './tracing/start-tracing';

export interface RunServiceOptions {
  service: string;
  port: number;
  /** Extra HTTP set-up (global prefix, pipes, OpenAPI) before listening. */
  configure?: (app: INestApplication) => void | Promise<void>;
}

/** Creates, configures and starts a service; SIGTERM/SIGINT stop it within its drain time (ServiceShutdown). */
export async function runService(module: unknown, options: RunServiceOptions): Promise<INestApplication> {
  // abortOnError off: a failing module init (a refused production start, a database away) rejects
  // here, and startOrExit reports it as one JSON line, instead of Nest printing it in colour.
  const app = await NestFactory.create(module as never, { bufferLogs: true, abortOnError: false });
  const logger = app.get(Logger);
  app.useLogger(logger);
  // Ahead of every other middleware and the router (Nest adds its routes at listen): requests that
  // are refused before routing, or that no route matches, are logged and counted too.
  app.use(app.get<RequestLogging>(REQUEST_LOGGING));
  const httpMetrics = app.get(HttpMetricsMiddleware);
  app.use(httpMetrics.use.bind(httpMetrics));
  // The spans of the last work are exported once the application has closed, before the exit.
  app.get(ServiceShutdown).listen(() => app.close().then(stopTracing));
  await options.configure?.(app);
  await app.listen(options.port);
  logger.log({ msg: `${options.service} listening`, url: `http://127.0.0.1:${options.port}` });
  return app;
}

/**
 * Runs a service's start-up; a failure (bad environment, database or broker unreachable at boot)
 * ends the process with one structured log line naming the service and the reason. V8's heap growth
 * is set first (heap/heap-growth.ts), before the service builds its heap.
 */
export function startOrExit(service: string, start: () => Promise<unknown>): void {
  applyHeapGrowth();
  start().catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', time: Date.now(), service, msg: 'start-up failed', reason })}\n`,
    );
    process.exit(1);
  });
}
