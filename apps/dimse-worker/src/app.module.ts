import { type DynamicModule, Module } from '@nestjs/common';
import { ConsumerQueues, WORKER_PREFETCH } from '@pacslink/contracts';
import { EgressModule, egressPolicyFromEnv } from '@pacslink/egress';
import { MessagingModule } from '@pacslink/messaging';
import { PlatformModule } from '@pacslink/platform';
import { ConnectionTestModule } from './connection-test/connection-test.module';
import { ExportModule } from './export/export.module';
import { ImportModule } from './import/import.module';
import { QueryModule } from './query/query.module';
import { StorageScpModule } from './storage-scp/storage-scp.module';
import { DIMSE_WORKER, type DimseWorkerEnv } from './config';

@Module({})
export class AppModule {
  static forRoot(env: DimseWorkerEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: DIMSE_WORKER, env, database: false }),
        MessagingModule.forRoot({
          url: env.AMQP_URL,
          connectionName: DIMSE_WORKER,
          prefetch: WORKER_PREFETCH,
          consumerQueues: [ConsumerQueues.DimseWorkerCommands],
          commandQueues: [ConsumerQueues.ConfigServiceReports],
        }),
        EgressModule.forRoot(egressPolicyFromEnv(env)),
        ConnectionTestModule,
        QueryModule,
        ExportModule.forRoot(env.STORE_DIR),
        ImportModule.forRoot(env.STORE_DIR),
        StorageScpModule.forRoot(env.STORE_DIR, {
          aeTitle: env.SCP_AE_TITLE,
          port: env.SCP_PORT,
          maxAssociations: env.SCP_MAX_ASSOCIATIONS,
          maxAssociationsPerPeer: env.SCP_MAX_ASSOCIATIONS_PER_PEER,
          maxInstanceBytes: env.SCP_MAX_INSTANCE_BYTES,
          durability: env.SCP_DURABILITY,
        }),
      ],
    };
  }
}
