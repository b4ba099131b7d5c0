import { type DynamicModule, Module } from '@nestjs/common';
import { ConsumerQueues } from '@pacslink/contracts';
import { EgressModule, egressPolicyFromEnv } from '@pacslink/egress';
import { MessagingModule, OutboxModule, messagingEntities } from '@pacslink/messaging';
import { serviceDatabaseModule } from '@pacslink/persistence';
import { PlatformModule } from '@pacslink/platform';
import { MWL_MPPS_SERVICE, MWL_SCHEMA, type MwlMppsEnv } from './config';
import { mwlMppsMigrations } from './migrations';
import { MppsModule } from './mpps/mpps.module';
import { WorklistModule } from './worklist/worklist.module';

@Module({})
export class AppModule {
  static forRoot(env: MwlMppsEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: MWL_MPPS_SERVICE, env, database: true }),
        serviceDatabaseModule({
          url: env.DATABASE_URL,
          schema: MWL_SCHEMA,
          entities: [...messagingEntities],
          migrations: mwlMppsMigrations,
        }),
        MessagingModule.forRoot({
          url: env.AMQP_URL,
          connectionName: MWL_MPPS_SERVICE,
          consumerQueues: [ConsumerQueues.MwlMppsCommands, ConsumerQueues.MwlMppsEvents],
        }),
        OutboxModule.forRoot(),
        EgressModule.forRoot(egressPolicyFromEnv(env, { databaseUrl: env.DATABASE_URL })),
        WorklistModule,
        MppsModule,
      ],
    };
  }
}
