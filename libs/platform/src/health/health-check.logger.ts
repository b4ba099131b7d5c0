import { Injectable, Logger, type LoggerService } from '@nestjs/common';

/**
 * Terminus's logger, one level down: a failing readiness probe is the answer the probe exists to
 * give (a service starting, or its broker away), so it is a warning, not an error.
 */
@Injectable()
export class HealthCheckLogger implements LoggerService {
  private readonly logger = new Logger('HealthCheck');

  log(message: unknown): void {
    this.logger.log(message);
  }

  warn(message: unknown): void {
    this.logger.warn(message);
  }

  error(message: unknown): void {
    this.logger.warn(message);
  }
}
