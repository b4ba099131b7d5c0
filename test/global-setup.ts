import './register-paths';
import { configServiceMigrations } from '../apps/config-service/src/migrations';
import { CONFIG_SCHEMA } from '../apps/config-service/src/config';
import { mwlMppsMigrations } from '../apps/mwl-mpps-service/src/migrations';
import { MWL_SCHEMA } from '../apps/mwl-mpps-service/src/config';
import { migrateSchema, serviceDataSourceOptions } from '@pacslink/persistence';
import {
  MANAGEMENT_URL_ENV,
  TEMPLATE_DATABASE_ENV,
  TEST_RUN_ID_ENV,
  createEmptyDatabase,
  managementApi,
  peersRunning,
  resolveBackingServices,
  startPeers,
  testDatabasePrefix,
  uniqueSuffix,
} from '@pacslink/testing';
import { runState } from './run-state';

/**
 * Once per `npm test`: the backing services, the DICOM peers, and one template database migrated
 * with every service's schema, which each test file clones.
 */
export default async function globalSetup(): Promise<void> {
  process.env[TEST_RUN_ID_ENV] ??= uniqueSuffix();
  const services = await resolveBackingServices();
  runState.stopServices = services.stop;
  process.env.DATABASE_URL = services.databaseUrl;
  process.env.AMQP_URL = services.amqpUrl;
  process.env[MANAGEMENT_URL_ENV] = services.managementUrl;
  await managementApi().vhostNames();

  runState.startedPeers = !peersRunning();
  await startPeers();

  const template = `${testDatabasePrefix()}_template`;
  const url = await createEmptyDatabase(template);
  for (const [schema, migrations] of [
    [CONFIG_SCHEMA, configServiceMigrations],
    [MWL_SCHEMA, mwlMppsMigrations],
  ] as const) {
    await migrateSchema(serviceDataSourceOptions({ url, schema, entities: [], migrations }));
  }
  process.env[TEMPLATE_DATABASE_ENV] = template;
}
