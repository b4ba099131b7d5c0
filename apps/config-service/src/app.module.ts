import { type DynamicModule, Module } from '@nestjs/common';
import { ConsumerQueues } from '@pacslink/contracts';
import { MessagingModule, OutboxModule, messagingEntities } from '@pacslink/messaging';
import { serviceDatabaseModule } from '@pacslink/persistence';
import { PlatformModule } from '@pacslink/platform';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { BrokerQueuesModule } from './broker-queues/broker-queues.module';
import { ConnectionTestModule } from './connection-test/connection-test.module';
import { DimseCallersModule } from './dimse-callers/dimse-callers.module';
import { EventsModule } from './events/events.module';
import { CONFIG_SCHEMA, CONFIG_SERVICE, type ConfigServiceEnv, oidcOptions } from './config';
import { LocalAeTitlesModule } from './local-ae-titles/local-ae-titles.module';
import { configServiceMigrations } from './migrations';
import { PacsConfigsModule } from './pacs-configs/pacs-configs.module';
import { QueryModule } from './query/query.module';
import { WorklistModule } from './worklist/worklist.module';
import { SecretsModule } from '@pacslink/secrets';
import { SettingsModule } from './settings/settings.module';
import { StudiesModule } from './studies/studies.module';
import { TransfersModule } from './transfers/transfers.module';

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
        MessagingModule.forRoot({
          url: env.AMQP_URL,
          connectionName: CONFIG_SERVICE,
          consumerQueues: [ConsumerQueues.ConfigServiceReports, ConsumerQueues.ConfigServiceDeadLetters],
          commandQueues: [ConsumerQueues.DimseWorkerCommands, ConsumerQueues.DicomwebWorkerCommands],
        }),
        BrokerQueuesModule,
        OutboxModule.forRoot(),
        AuthModule.forRoot({ apiKeys: env.API_KEYS, oidc: oidcOptions(env) }),
        SecretsModule.forRoot({ key: env.SECRETS_KEY, previousKeys: env.SECRETS_PREVIOUS_KEYS }),
        AuditModule,
        SettingsModule,
        LocalAeTitlesModule,
        PacsConfigsModule,
        DimseCallersModule,
        ConnectionTestModule,
        QueryModule,
        WorklistModule,
        StudiesModule.forRoot({
          storeDir: env.STORE_DIR,
          uploadLimits: {
            maxInstanceBytes: env.UPLOAD_MAX_INSTANCE_BYTES,
            maxRequestBytes: env.UPLOAD_MAX_REQUEST_BYTES,
            maxParts: env.UPLOAD_MAX_PARTS,
          },
          retention: { keepDays: env.STORE_RETENTION_DAYS },
        }),
        EventsModule,
        TransfersModule.forRoot({
          retryBaseMs: env.TRANSFER_RETRY_BASE_MS,
          maxAttempts: env.TRANSFER_MAX_ATTEMPTS,
          leaseMs: env.TRANSFER_LEASE_MS,
          dispatchLeaseMs: env.TRANSFER_DISPATCH_LEASE_MS,
          sweepIntervalMs: 1_000,
          circuit: {
            failuresToOpen: env.TRANSFER_CIRCUIT_FAILURES,
            coolDownMs: env.TRANSFER_CIRCUIT_COOLDOWN_MS,
            waitMs: env.TRANSFER_CIRCUIT_WAIT_MS,
          },
        }),
      ],
    };
  }
}
