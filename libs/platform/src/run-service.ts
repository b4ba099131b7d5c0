import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';

export interface RunServiceOptions {
  service: string;
  port: number;
  /** Extra HTTP set-up (global prefix, pipes, OpenAPI) before listening. */
  configure?: (app: INestApplication) => void | Promise<void>;
}

/** Creates, configures and starts a service; SIGTERM/SIGINT close it cleanly (consumers drain). */
export async function runService(module: unknown, options: RunServiceOptions): Promise<INestApplication> {
  const app = await NestFactory.create(module as never, { bufferLogs: true });
  const logger = app.get(Logger);
  app.useLogger(logger);
  app.enableShutdownHooks();
  await options.configure?.(app);
  await app.listen(options.port);
  logger.log({ msg: `${options.service} listening`, url: `http://127.0.0.1:${options.port}` });
  return app;
}
