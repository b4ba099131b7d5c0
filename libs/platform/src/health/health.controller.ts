import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { BrokerConnection } from '@pacslink/messaging';
import { ServiceShutdown } from '../shutdown/service-shutdown';
import { HEALTH_OPTIONS, type HealthOptions } from './health.options';

/**
 * Liveness says the process answers; readiness says its database (if any) and broker are up and it
 * is not shutting down (503 from the first SIGTERM: no new requests while it drains).
 */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly broker: BrokerConnection,
    private readonly database: TypeOrmHealthIndicator,
    private readonly shutdown: ServiceShutdown,
    @Inject(HEALTH_OPTIONS) private readonly options: HealthOptions,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    const checks: (() => Promise<HealthIndicatorResult> | HealthIndicatorResult)[] = [
      () => this.shutdownCheck(),
      () => this.brokerCheck(),
    ];
    if (this.options.database) checks.push(() => this.database.pingCheck('database', { timeout: 2_000 }));
    return this.health.check(checks);
  }

  private shutdownCheck(): HealthIndicatorResult {
    const indicator = this.indicators.check('shutdown');
    return this.shutdown.draining ? indicator.down({ message: 'shutting down' }) : indicator.up();
  }

  private brokerCheck(): HealthIndicatorResult {
    const indicator = this.indicators.check('broker');
    return this.broker.isConnected()
      ? indicator.up()
      : indicator.down({ message: 'not connected to RabbitMQ' });
  }
}
