import { IsIn, IsOptional, IsString } from 'class-validator';
import { egressPolicyFromEnv } from '@pacslink/egress';
import { EnvError, ServiceEnv, loadEnv } from '@pacslink/platform';
import { STORE_IO_SETTINGS, type StoreIoSetting } from '@pacslink/store';
import { IsSecretsKey, IsSecretsKeyList } from '@pacslink/secrets';

export class DicomwebWorkerEnv extends ServiceEnv {
  @IsString() STORE_DIR = './var/store';

  /** How the store's files are read and written: auto (by STORE_DIR's filesystem), sync or pooled. */
  @IsIn(STORE_IO_SETTINGS, { message: `STORE_IO must be one of: ${STORE_IO_SETTINGS.join(', ')}` })
  STORE_IO: StoreIoSetting = 'auto';

  /**
   * The key config-service seals PACS credentials with (the same as config-service's); unset in
   * development = the dev key file ./var/secrets.key. Required in production.
   */
  @IsOptional() @IsSecretsKey() SECRETS_KEY?: string;

  /** Earlier SECRETS_KEYs (comma-separated): commands sealed under them still unseal. */
  @IsOptional() @IsSecretsKeyList() SECRETS_PREVIOUS_KEYS?: string;

  /** The CIDR ranges a PACS may be in, comma-separated; required in production (docs/security.md). */
  @IsOptional() @IsString() EGRESS_ALLOW_CIDRS?: string;

  /** host:port of pacslink's own services refused beside the broker, e.g. the database (comma-separated). */
  @IsOptional() @IsString() EGRESS_DENY_ENDPOINTS?: string;
}

export const DICOMWEB_WORKER = 'dicomweb-worker';
export const DEFAULT_HTTP_PORT = 3002;

/**
 * Production refuses to start without the key that unseals PACS credentials, and without
 * EGRESS_ALLOW_CIDRS; a malformed egress variable is named at boot.
 */
export function loadDicomwebWorkerEnv(source: NodeJS.ProcessEnv = process.env): DicomwebWorkerEnv {
  const env = loadEnv(DicomwebWorkerEnv, source);
  egressPolicyFromEnv(env);
  if (env.NODE_ENV === 'production' && !env.SECRETS_KEY) {
    throw new EnvError('invalid environment:\n  SECRETS_KEY must be set when NODE_ENV=production');
  }
  return env;
}
