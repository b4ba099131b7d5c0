import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Histogram, type Registry } from 'prom-client';
import { routeTemplateOf } from '../http/route-template';
import { METRICS_REGISTRY } from './metrics.registry';

/**
 * `pacslink_http_request_duration_seconds{method,route,status}`: every HTTP request the service
 * answers, from its arrival to the response's end (or the client going away), by the matched
 * route template. Express middleware ahead of the router (runService installs it), not an
 * interceptor: requests a guard refuses or no route matches are counted too. `_count` is the
 * request count.
 */
@Injectable()
export class HttpMetricsMiddleware {
  private readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.duration = new Histogram({
      name: 'pacslink_http_request_duration_seconds',
      help: 'HTTP requests by method, matched route template and status, with their duration',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
  }

  use(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const end = this.duration.startTimer();
    res.once('close', () =>
      end({ method: req.method ?? 'UNKNOWN', route: routeTemplateOf(req), status: String(res.statusCode) }),
    );
    next();
  }
}
