import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeys } from './api-keys';

@Module({})
export class AuthModule {
  static forRoot(commaSeparatedKeys: string | undefined): DynamicModule {
    const apiKeys = new ApiKeys(commaSeparatedKeys);
    return {
      module: AuthModule,
      providers: [
        { provide: ApiKeys, useValue: apiKeys },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
      ],
    };
  }
}
