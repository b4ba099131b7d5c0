import { type DynamicModule, Module } from '@nestjs/common';
import { MessagingModule, OutboxModule, messagingEntities } from '@pacslink/messaging';
import { serviceDatabaseModule } from '@pacslink/persistence';
import { PlatformModule } from '@pacslink/platform';
import { CONFIG_SCHEMA, CONFIG_SERVICE, type ConfigServiceEnv } from './config';
import { configServiceMigrations } from './migrations';

@Module({})
export class AppModule {
  static forRoot(env: ConfigServiceEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: CONFIG_SERVICE, env, database: true }),
        serviceDatabaseModule({
          url: env.DATABASE_URL,
          schema: CONFIG_SCHEMA,
          entities: [...messagingEntities],
          migrations: configServiceMigrations,
        }),
        MessagingModule.forRoot({ url: env.AMQP_URL, connectionName: CONFIG_SERVICE }),
        OutboxModule.forRoot(),
      ],
    };
  }
}
