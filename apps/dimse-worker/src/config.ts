import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { ServiceEnv, loadEnv } from '@pacslink/platform';

export class DimseWorkerEnv extends ServiceEnv {
  @IsString() STORE_DIR = './var/store';

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

/** DIMSE has no credentials: this worker never reads SECRETS_KEY, and is not given it. */
export function loadDimseWorkerEnv(source: NodeJS.ProcessEnv = process.env): DimseWorkerEnv {
  return loadEnv(DimseWorkerEnv, source);
}
