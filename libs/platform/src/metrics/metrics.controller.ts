import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from './metrics.registry';

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  /** The collection under way, which every scrape arriving meanwhile answers with. */
  private collecting?: Promise<string>;

  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  /**
   * One collection at a time: /metrics needs no caller, and a collection reads the database and
   * the broker (the scraped gauges), so a flood of concurrent scrapes would otherwise be as many
   * reads, queueing the API's own queries behind them in the pool.
   */
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    this.collecting ??= this.registry.metrics().finally(() => {
      this.collecting = undefined;
    });
    return this.collecting;
  }
}
