import { type DynamicModule, Module } from '@nestjs/common';
import { ConsumerQueues, WORKER_PREFETCH } from '@pacslink/contracts';
import { EgressModule, egressPolicyFromEnv } from '@pacslink/egress';
import { MessagingModule } from '@pacslink/messaging';
import { PlatformModule } from '@pacslink/platform';
import { SecretsModule } from '@pacslink/secrets';
import { BatchRunnerModule } from './batch-runner.module';
import { ConnectionTestModule } from './connection-test/connection-test.module';
import { DicomwebClientModule } from './dicomweb-client.module';
import { ExportModule } from './export/export.module';
import { ImportModule } from './import/import.module';
import { QueryModule } from './query/query.module';
import { DICOMWEB_WORKER, type DicomwebWorkerEnv } from './config';

@Module({})
export class AppModule {
  static forRoot(env: DicomwebWorkerEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: DICOMWEB_WORKER, env, database: false }),
        MessagingModule.forRoot({
          url: env.AMQP_URL,
          connectionName: DICOMWEB_WORKER,
          prefetch: WORKER_PREFETCH,
          consumerQueues: [ConsumerQueues.DicomwebWorkerCommands],
          commandQueues: [ConsumerQueues.ConfigServiceReports],
        }),
        SecretsModule.forRoot({ key: env.SECRETS_KEY, previousKeys: env.SECRETS_PREVIOUS_KEYS }),
        EgressModule.forRoot(egressPolicyFromEnv(env)),
        DicomwebClientModule,
        ConnectionTestModule,
        QueryModule,
        BatchRunnerModule.forRoot(env.STORE_DIR),
        ExportModule,
        ImportModule,
      ],
    };
  }
}
