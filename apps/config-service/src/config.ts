import { IsOptional, IsString } from 'class-validator';
import { DatabaseServiceEnv, loadEnv } from '@pacslink/platform';

export class ConfigServiceEnv extends DatabaseServiceEnv {
  /** 32-byte key (base64) for PACS credentials at rest; required in production. */
  @IsOptional() @IsString() SECRETS_KEY?: string;

  /** Comma-separated API keys; unset = no authentication (refused in production). */
  @IsOptional() @IsString() API_KEYS?: string;

  @IsString() STORE_DIR = './var/store';
}

export const CONFIG_SERVICE = 'config-service';
export const DEFAULT_HTTP_PORT = 3000;
/** The schema config-service owns in the shared database. */
export const CONFIG_SCHEMA = 'config';

export function loadConfigServiceEnv(): ConfigServiceEnv {
  return loadEnv(ConfigServiceEnv);
}
