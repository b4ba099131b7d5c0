import { IsString } from 'class-validator';
import { ServiceEnv, loadEnv } from '@pacslink/platform';

export class DicomwebWorkerEnv extends ServiceEnv {
  @IsString() STORE_DIR = './var/store';
}

export const DICOMWEB_WORKER = 'dicomweb-worker';
export const DEFAULT_HTTP_PORT = 3002;

export function loadDicomwebWorkerEnv(): DicomwebWorkerEnv {
  return loadEnv(DicomwebWorkerEnv);
}
