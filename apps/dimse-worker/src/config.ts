import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { EnvError, ServiceEnv, loadEnv } from '@pacslink/platform';

export class DimseWorkerEnv extends ServiceEnv {
  @IsString() STORE_DIR = './var/store';

  /**
   * The key config-service seals PACS credentials with (the same in every service); unset in
   * development = the dev key file ./var/secrets.key. Required in production.
   */
  @IsOptional() @IsString() SECRETS_KEY?: string;

  /** The Storage SCP that receives C-MOVE results. */
  @Matches(/^[\x20-\x5b\x5d-\x7e]{1,16}$/, {
    message: 'SCP_AE_TITLE must be 1-16 printable ASCII characters, no backslash',
  })
  SCP_AE_TITLE = 'PACSLINK';

  // Annotated: transpile-only builds emit design:type from annotations, and class-transformer needs
  // Number here to convert the environment's string.
  @IsInt() @Min(1) @Max(65535) SCP_PORT: number = 11112;
}

export const DIMSE_WORKER = 'dimse-worker';
export const DEFAULT_HTTP_PORT = 3001;

/** Production refuses to start without the key that unseals PACS credentials. */
export function loadDimseWorkerEnv(source: NodeJS.ProcessEnv = process.env): DimseWorkerEnv {
  const env = loadEnv(DimseWorkerEnv, source);
  if (env.NODE_ENV === 'production' && !env.SECRETS_KEY) {
    throw new EnvError('invalid environment:\n  SECRETS_KEY must be set when NODE_ENV=production');
  }
  return env;
}
