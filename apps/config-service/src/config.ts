import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { DatabaseServiceEnv, EnvError, loadEnv } from '@pacslink/platform';

export class ConfigServiceEnv extends DatabaseServiceEnv {
  /** 32-byte key (base64) for PACS credentials at rest; required in production. */
  @IsOptional() @IsString() SECRETS_KEY?: string;

  /** Comma-separated API keys; unset = no authentication (refused in production). */
  @IsOptional() @IsString() API_KEYS?: string;

  @IsString() STORE_DIR = './var/store';

  /** First automatic retry of a transfer batch after a transient failure; doubles each time. */
  @IsInt() @Min(10) @Max(600_000) TRANSFER_RETRY_BASE_MS: number = 2_000;

  /** Automatic attempts of one batch before its transfer fails. */
  @IsInt() @Min(1) @Max(100) TRANSFER_MAX_ATTEMPTS: number = 8;

  /** A claimed batch whose worker sent no report for this long is taken back and retried. */
  @IsInt() @Min(1_000) @Max(3_600_000) TRANSFER_LEASE_MS: number = 120_000;

  /** A dispatched batch that no worker claimed for this long is dispatched again. */
  @IsInt() @Min(1_000) @Max(86_400_000) TRANSFER_DISPATCH_LEASE_MS: number = 600_000;

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
