import { type DynamicModule, Injectable, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { EgressGuard } from './egress-guard';
import type { EgressPolicy } from './egress-policy';

/** Says once, at boot, what the workers may connect to; loudly when that is anything. */
@Injectable()
class EgressPolicyAnnouncer implements OnModuleInit {
  private readonly logger = new Logger('Egress');

  constructor(private readonly guard: EgressGuard) {}

  onModuleInit(): void {
    const { allow, deny } = this.guard.policy;
    const denied = deny.map((endpoint) => `${endpoint.kind} ${endpoint.host}:${endpoint.port}`);
    if (allow === 'any') {
      this.logger.warn({
        msg: 'EGRESS_ALLOW_CIDRS is unset: PACS connections may go to any address, loopback included (development only; required when NODE_ENV=production)',
        denied,
      });
      return;
    }
    this.logger.log({
      msg: 'egress policy',
      allow: allow.map(([network, bits]) => `${network.toString()}/${bits}`),
      denied,
    });
  }
}

/** The EgressGuard every PACS connection of this service goes through (global). */
@Module({})
export class EgressModule {
  static forRoot(policy: EgressPolicy): DynamicModule {
    return {
      module: EgressModule,
      global: true,
      providers: [{ provide: EgressGuard, useValue: new EgressGuard(policy) }, EgressPolicyAnnouncer],
      exports: [EgressGuard],
    };
  }
}
