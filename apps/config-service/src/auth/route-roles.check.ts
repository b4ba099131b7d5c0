import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { PATH_METADATA } from '@nestjs/common/constants';
import { REQUIRED_ROLE } from './requires-role.decorator';

/** Controllers of the platform whose routes are public (health, metrics): exact paths in public-routes.ts. */
const PUBLIC_CONTROLLER_PATHS = new Set(['health', 'metrics']);

/** Refuses to start when a route names no role: a missing @RequiresRole is a deployment-time error, not an open route. */
@Injectable()
export class RouteRolesCheck implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onApplicationBootstrap(): void {
    const missing: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const type = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!type || !wrapper.instance) continue;
      const path = this.reflector.get<string | string[] | undefined>(PATH_METADATA, type);
      if (typeof path === 'string' && PUBLIC_CONTROLLER_PATHS.has(path)) continue;
      const classRole = this.reflector.get<unknown>(REQUIRED_ROLE, type);
      const prototype = Object.getPrototypeOf(wrapper.instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name] as object;
        if (this.reflector.get<unknown>(PATH_METADATA, handler as never) === undefined) continue;
        if (
          classRole === undefined &&
          this.reflector.get<unknown>(REQUIRED_ROLE, handler as never) === undefined
        )
          missing.push(`${type.name}.${name}`);
      }
    }
    if (missing.length > 0)
      throw new Error(
        `routes without @RequiresRole (each route must name admin or operator): ${missing.join(', ')}`,
      );
  }
}
