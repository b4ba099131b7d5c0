import { IsOptional, IsString } from 'class-validator';
import { EnvError, ServiceEnv, loadEnv } from '@pacslink/platform';
import { IsSecretsKey, IsSecretsKeyList } from '@pacslink/secrets';

export class DicomwebWorkerEnv extends ServiceEnv {
  @IsString() STORE_DIR = './var/store';

  /**
   * The key config-service seals PACS credentials with (the same as config-service's); unset in
   * development = the dev key file ./var/secrets.key. Required in production.
   */
  @IsOptional() @IsSecretsKey() SECRETS_KEY?: string;

  /** Earlier SECRETS_KEYs (comma-separated): commands sealed under them still unseal. */
  @IsOptional() @IsSecretsKeyList() SECRETS_PREVIOUS_KEYS?: string;
}

export const DICOMWEB_WORKER = 'dicomweb-worker';
export const DEFAULT_HTTP_PORT = 3002;

/** Production refuses to start without the key that unseals PACS credentials. */
export function loadDicomwebWorkerEnv(source: NodeJS.ProcessEnv = process.env): DicomwebWorkerEnv {
  const env = loadEnv(DicomwebWorkerEnv, source);
  if (env.NODE_ENV === 'production' && !env.SECRETS_KEY) {
    throw new EnvError('invalid environment:\n  SECRETS_KEY must be set when NODE_ENV=production');
  }
  return env;
}
