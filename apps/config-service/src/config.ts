import { IsOptional, IsString } from 'class-validator';
import { DatabaseServiceEnv, EnvError, loadEnv } from '@pacslink/platform';

export class ConfigServiceEnv extends DatabaseServiceEnv {
  /** 32-byte key (base64) for PACS credentials at rest; required in production. */
  @IsOptional() @IsString() SECRETS_KEY?: string;

  /** Comma-separated API keys; unset = no authentication (refused in production). */
  @IsOptional() @IsString() API_KEYS?: string;

  @IsString() STORE_DIR = './var/store';

  /** Largest JSON request body accepted; larger ones are answered 413. */
  @IsString() JSON_BODY_LIMIT = '256kb';
}

export const CONFIG_SERVICE = 'config-service';
export const DEFAULT_HTTP_PORT = 3000;
/** The schema config-service owns in the shared database. */
export const CONFIG_SCHEMA = 'config';

/** Production refuses to start without credentials encryption and API authentication (contract). */
export function loadConfigServiceEnv(source: NodeJS.ProcessEnv = process.env): ConfigServiceEnv {
  const env = loadEnv(ConfigServiceEnv, source);
  if (env.NODE_ENV === 'production') {
    const missing = (['SECRETS_KEY', 'API_KEYS'] as const).filter((name) => !env[name]);
    if (missing.length > 0)
      throw new EnvError(
        `invalid environment:\n  ${missing.join(', ')} must be set when NODE_ENV=production`,
      );
  }
  return env;
}
