import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { DatabaseServiceEnv, EnvError, loadEnv } from '@pacslink/platform';
import { STORE_IO_SETTINGS, type StoreIoSetting } from '@pacslink/store';
import { IsSecretsKey, IsSecretsKeyList } from '@pacslink/secrets';
import { ApiKeysError, parseApiKeys } from './auth/api-keys';
import type { OidcOptions } from './auth/oidc-verifier';

export class ConfigServiceEnv extends DatabaseServiceEnv {
  /** 32-byte key (base64) for PACS credentials at rest; required in production. */
  @IsOptional() @IsSecretsKey() SECRETS_KEY?: string;

  /** Earlier SECRETS_KEYs (comma-separated): still read, re-encrypted under SECRETS_KEY on write. */
  @IsOptional() @IsSecretsKeyList() SECRETS_PREVIOUS_KEYS?: string;

  /** Comma-separated `key` or `key:role` (admin, operator; admin when omitted). */
  @IsOptional() @IsString() API_KEYS?: string;

  /** Accept OpenID Connect bearer tokens from this issuer (its `iss`, exactly), for OIDC_AUDIENCE. */
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, {
    message: 'OIDC_ISSUER_URL must be an http(s) URL, the issuer exactly as its tokens name it',
  })
  OIDC_ISSUER_URL?: string;

  /** The `aud` the tokens must carry (this API's identifier at the identity provider). */
  @IsOptional() @IsString() OIDC_AUDIENCE?: string;

  /** The claim holding the caller's roles; a dotted path reaches into objects (`realm_access.roles`). */
  @Matches(/^[A-Za-z0-9_:/.-]+$/, { message: 'OIDC_ROLES_CLAIM must be a claim name or dotted path' })
  OIDC_ROLES_CLAIM = 'roles';

  /** `true`: the OpenAPI UI and document need no caller (every other route still does). */
  @IsIn(['true', 'false']) API_DOCS_PUBLIC: 'true' | 'false' = 'false';

  @IsString() STORE_DIR = './var/store';

  /** How the store's files are read and written: auto (by STORE_DIR's filesystem), sync or pooled. */
  @IsIn(STORE_IO_SETTINGS, { message: `STORE_IO must be one of: ${STORE_IO_SETTINGS.join(', ')}` })
  STORE_IO: StoreIoSetting = 'auto';

  /**
   * Days a study stays in the store after its last instance arrived; then it is deleted (unless a
   * transfer is using it). Unset: kept until deleted by hand. At most 100 years.
   */
  @IsOptional() @IsInt() @Min(1) @Max(36_500) STORE_RETENTION_DAYS?: number;

  /** First automatic retry of a transfer batch after a transient failure; doubles each time. */
  @IsInt() @Min(10) @Max(600_000) TRANSFER_RETRY_BASE_MS: number = 2_000;

  /** Automatic attempts of one batch before its transfer fails. */
  @IsInt() @Min(1) @Max(100) TRANSFER_MAX_ATTEMPTS: number = 8;

  /**
   * A claimed batch whose worker sent no report for this long is taken over by another worker (a
   * failed attempt). Workers report at least every 5 s and stop sending within 45 s of their last
   * report that got through, so the lease must stay above that (ADR 0006, amendment of issue 10).
   */
  @IsInt() @Min(1_000) @Max(3_600_000) TRANSFER_LEASE_MS: number = 60_000;

  /** A dispatched batch that no worker claimed for this long is dispatched again (not a failed attempt). */
  @IsInt() @Min(1_000) @Max(86_400_000) TRANSFER_DISPATCH_LEASE_MS: number = 600_000;

  /** Attempts in a row that found a PACS unreachable before its circuit opens (ADR 0006, "A circuit per PACS"). */
  @IsInt() @Min(1) @Max(1_000) TRANSFER_CIRCUIT_FAILURES: number = 5;

  /** An open circuit sends one probe batch after this long; doubling after each failed probe, up to TRANSFER_CIRCUIT_WAIT_MS. */
  @IsInt() @Min(100) @Max(3_600_000) TRANSFER_CIRCUIT_COOLDOWN_MS: number = 10_000;

  /** Transfers wait this long for their PACS's open circuit, then fail naming it; a new one then fails at once. */
  @IsInt() @Min(0) @Max(86_400_000) TRANSFER_CIRCUIT_WAIT_MS: number = 120_000;

  /** Largest JSON request body accepted; larger ones are answered 413. */
  @IsString() JSON_BODY_LIMIT = '256kb';

  /**
   * Largest instance an upload may hold. 4 GiB: the longest value a DICOM element can declare
   * (32-bit length, PS3.5 7.1), and room for the largest multi-frame objects (2+ GB).
   */
  @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER) UPLOAD_MAX_INSTANCE_BYTES: number = 4 * 1024 ** 3;

  /** Largest upload request: 64 GiB, a whole study of tens of GB in one request. */
  @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER) UPLOAD_MAX_REQUEST_BYTES: number = 64 * 1024 ** 3;

  /** Most parts in one upload: 100 000, beyond the largest studies (thin-slice and 4D CT: tens of thousands). */
  @IsInt() @Min(1) @Max(10_000_000) UPLOAD_MAX_PARTS: number = 100_000;

  /** A connection that sends or receives nothing for this long is closed (an upload that stalled). */
  @IsInt() @Min(100) @Max(86_400_000) HTTP_IDLE_TIMEOUT_MS: number = 60_000;

  /** The request line and headers must have arrived within this (Node checks every 30 s). */
  @IsInt() @Min(1_000) @Max(3_600_000) HTTP_HEADERS_TIMEOUT_MS: number = 60_000;
}

export const CONFIG_SERVICE = 'config-service';
export const DEFAULT_HTTP_PORT = 3000;
/** The schema config-service owns in the shared database. */
export const CONFIG_SCHEMA = 'config';

/** Production refuses to start without credentials encryption and API authentication (contract). */
export function loadConfigServiceEnv(source: NodeJS.ProcessEnv = process.env): ConfigServiceEnv {
  const env = loadEnv(ConfigServiceEnv, source);
  const problems: string[] = [];
  try {
    parseApiKeys(env.API_KEYS);
  } catch (error) {
    if (!(error instanceof ApiKeysError)) throw error;
    problems.push(error.message);
  }
  if ((env.OIDC_ISSUER_URL === undefined) !== (env.OIDC_AUDIENCE === undefined))
    problems.push('OIDC_ISSUER_URL and OIDC_AUDIENCE go together: set both or neither');
  if (env.NODE_ENV === 'production') {
    if (!env.SECRETS_KEY) problems.push('SECRETS_KEY must be set when NODE_ENV=production');
    if (!env.API_KEYS && !env.OIDC_ISSUER_URL)
      problems.push(
        'API_KEYS or OIDC_ISSUER_URL must be set when NODE_ENV=production (authentication cannot be off)',
      );
    if (env.OIDC_ISSUER_URL?.startsWith('http:'))
      problems.push('OIDC_ISSUER_URL must be https when NODE_ENV=production');
  }
  if (problems.length > 0) throw new EnvError(`invalid environment:\n  ${problems.join('\n  ')}`);
  return env;
}

/** The OIDC settings, when an issuer is configured. */
export function oidcOptions(env: ConfigServiceEnv): OidcOptions | undefined {
  if (env.OIDC_ISSUER_URL === undefined || env.OIDC_AUDIENCE === undefined) return undefined;
  return { issuerUrl: env.OIDC_ISSUER_URL, audience: env.OIDC_AUDIENCE, rolesClaim: env.OIDC_ROLES_CLAIM };
}
