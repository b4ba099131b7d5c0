import { Logger } from '@nestjs/common';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

export const DEV_SECRETS_KEY_FILE = './var/secrets.key';

/**
 * SECRETS_KEY, or in development a key generated once into ./var/secrets.key (contract). Production
 * never gets here without SECRETS_KEY: the environment check refuses to start.
 */
export function resolveSecretsKey(configured: string | undefined, file = DEV_SECRETS_KEY_FILE): string {
  if (configured) return configured;
  const path = resolve(file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dirname(path), { recursive: true });
  const key = randomBytes(32).toString('base64');
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  new Logger('SecretsKey').warn({ msg: 'SECRETS_KEY unset: generated a development key', file: path });
  return key;
}
