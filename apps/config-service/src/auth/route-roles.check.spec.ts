import { Controller, Get, Post } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { RequiresRole } from './requires-role.decorator';
import { RouteRolesCheck } from './route-roles.check';

@RequiresRole('operator')
@Controller('covered')
class CoveredController {
  @Get() read(): string {
    return 'ok';
  }
  @RequiresRole('admin') @Post() change(): string {
    return 'ok';
  }
}

@Controller('forgotten')
class ForgottenController {
  @RequiresRole('admin') @Post() change(): string {
    return 'ok';
  }
  @Get() read(): string {
    return 'open?';
  }
}

async function boot(controller: new () => object): Promise<void> {
  const module = await Test.createTestingModule({
    imports: [DiscoveryModule],
    controllers: [controller],
    providers: [RouteRolesCheck],
  }).compile();
  await module.init();
  await module.close();
}

describe('RouteRolesCheck', () => {
  it('boots when every route names a role, on its controller or itself', async () => {
    await expect(boot(CoveredController)).resolves.toBeUndefined();
  });

  it('refuses to boot when a route names none, naming the route', async () => {
    await expect(boot(ForgottenController)).rejects.toThrow(
      'routes without @RequiresRole (each route must name admin or operator): ForgottenController.read',
    );
  });
});
