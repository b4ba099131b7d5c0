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
import { HEALTH_OPTIONS, type HealthOptions } from './health.options';

/** Liveness says the process answers; readiness says its database (if any) and broker are up. */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly broker: BrokerConnection,
    private readonly database: TypeOrmHealthIndicator,
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
      () => this.brokerCheck(),
    ];
    if (this.options.database) checks.push(() => this.database.pingCheck('database', { timeout: 2_000 }));
    return this.health.check(checks);
  }

  private brokerCheck(): HealthIndicatorResult {
    const indicator = this.indicators.check('broker');
    return this.broker.isConnected()
      ? indicator.up()
      : indicator.down({ message: 'not connected to RabbitMQ' });
  }
}
