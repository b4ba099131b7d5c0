import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MessagingModule, OutboxModule, messagingEntities } from '@pacslink/messaging';
import { ensureDatabase, migrateSchema, serviceDataSourceOptions } from '@pacslink/persistence';
import { PlatformModule } from '@pacslink/platform';
import { CONFIG_SCHEMA, CONFIG_SERVICE, type ConfigServiceEnv } from './config';
import { configServiceMigrations } from './migrations';

@Module({})
export class AppModule {
  static forRoot(env: ConfigServiceEnv): DynamicModule {
    const dataSource = serviceDataSourceOptions({
      url: env.DATABASE_URL,
      schema: CONFIG_SCHEMA,
      entities: [...messagingEntities],
      migrations: configServiceMigrations,
    });
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: CONFIG_SERVICE, env, database: true }),
        TypeOrmModule.forRootAsync({
          useFactory: async () => {
            await ensureDatabase(env.DATABASE_URL);
            await migrateSchema(dataSource);
            return dataSource;
          },
        }),
        MessagingModule.forRoot({ url: env.AMQP_URL, connectionName: CONFIG_SERVICE }),
        OutboxModule.forRoot(),
      ],
    };
  }
}
