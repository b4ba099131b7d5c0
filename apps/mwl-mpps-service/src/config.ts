import { DatabaseServiceEnv, loadEnv } from '@pacslink/platform';

export class MwlMppsEnv extends DatabaseServiceEnv {}

export const MWL_MPPS_SERVICE = 'mwl-mpps-service';
export const DEFAULT_HTTP_PORT = 3003;
/** Its own schema in the shared database (contract: "Postgres (its own schema)"). */
export const MWL_SCHEMA = 'mwl';

export function loadMwlMppsEnv(): MwlMppsEnv {
  return loadEnv(MwlMppsEnv);
}
