import { existsSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { EnvError } from '@pacslink/platform';
import { serviceDataSourceOptions } from '@pacslink/persistence';
import { DEV_SECRETS_KEY_FILE, SecretCipher, resolveSecretsKey, splitSecretsKeys } from '@pacslink/secrets';
import { CONFIG_SCHEMA, type ConfigServiceEnv } from './config';
import { PacsConfig } from './pacs-configs/pacs-config.entity';
import { SecretsRotation, type SecretsRotationReport } from './pacs-configs/secrets-rotation';

/** The command line that runs it: `node dist/apps/config-service/main.js rotate-secrets`. */
export const ROTATE_SECRETS = 'rotate-secrets';

/**
 * Re-encrypts every stored PACS credential under SECRETS_KEY, reading the old ones with
 * SECRETS_PREVIOUS_KEYS: the service's own environment, against its migrated database, while it
 * runs. Never generates a key: rotating to a key no service has would only break every secret.
 */
export async function rotateSecrets(env: ConfigServiceEnv): Promise<SecretsRotationReport> {
  if (!env.SECRETS_KEY && !existsSync(DEV_SECRETS_KEY_FILE)) {
    throw new EnvError(
      `invalid environment:\n  SECRETS_KEY is unset and there is no development key ${DEV_SECRETS_KEY_FILE}: nothing to rotate to`,
    );
  }
  const cipher = SecretCipher.fromBase64(
    resolveSecretsKey(env.SECRETS_KEY),
    splitSecretsKeys(env.SECRETS_PREVIOUS_KEYS),
  );
  const dataSource = new DataSource({
    ...serviceDataSourceOptions({
      url: env.DATABASE_URL,
      schema: CONFIG_SCHEMA,
      entities: [PacsConfig],
      migrations: [],
      poolSize: 2,
    }),
  });
  await dataSource.initialize();
  try {
    return await new SecretsRotation(dataSource, cipher).run();
  } finally {
    await dataSource.destroy();
  }
}
