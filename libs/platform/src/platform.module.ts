import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { MESSAGING_METRICS_REGISTRY } from '@pacslink/messaging';
import { HealthCheckLogger } from './health/health-check.logger';
import { HealthController } from './health/health.controller';
import { HEALTH_OPTIONS } from './health/health.options';
import { REQUEST_LOGGING, requestLogging } from './http/request-logging';
import { loggerParams } from './logging';
import { HttpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { MetricsController } from './metrics/metrics.controller';
import { METRICS_REGISTRY, createMetricsRegistry } from './metrics/metrics.registry';
import { SHUTDOWN_OPTIONS, ServiceShutdown } from './shutdown/service-shutdown';
import type { ServiceEnv } from './service-env';

export interface PlatformOptions {
  service: string;
  env: ServiceEnv;
  /** Whether readiness includes a database ping (services that own one). */
  database: boolean;
}

/**
 * What every pacslink service has: structured logs, `/health/live`, `/health/ready`, `/metrics`,
 * and its way of stopping (ServiceShutdown).
 */
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const logging = loggerParams(options.service, options.env);
    return {
      module: PlatformModule,
      global: true,
      imports: [
        LoggerModule.forRoot(logging),
        TerminusModule.forRoot({ logger: HealthCheckLogger, errorLogStyle: 'json' }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: METRICS_REGISTRY, useValue: createMetricsRegistry(options.service) },
        // Messaging's metrics (consumer redeliveries, outbox backlog) go to the same registry.
        { provide: MESSAGING_METRICS_REGISTRY, useExisting: METRICS_REGISTRY },
        { provide: HEALTH_OPTIONS, useValue: { database: options.database } },
        { provide: SHUTDOWN_OPTIONS, useValue: { drainMs: options.env.SHUTDOWN_DRAIN_MS } },
        ServiceShutdown,
        HttpMetricsMiddleware,
        { provide: REQUEST_LOGGING, useValue: requestLogging(logging) },
      ],
      exports: [METRICS_REGISTRY, MESSAGING_METRICS_REGISTRY, ServiceShutdown],
    };
  }
}
