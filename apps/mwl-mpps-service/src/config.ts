import { IsOptional, IsString } from 'class-validator';
import { egressPolicyFromEnv } from '@pacslink/egress';
import { DatabaseServiceEnv, loadEnv } from '@pacslink/platform';

export class MwlMppsEnv extends DatabaseServiceEnv {
  /** The CIDR ranges a worklist or MPPS PACS may be in, comma-separated; required in production. */
  @IsOptional() @IsString() EGRESS_ALLOW_CIDRS?: string;

  /** host:port of pacslink's own services refused beside the broker and database (comma-separated). */
  @IsOptional() @IsString() EGRESS_DENY_ENDPOINTS?: string;
}

export const MWL_MPPS_SERVICE = 'mwl-mpps-service';
export const DEFAULT_HTTP_PORT = 3003;
/** Its own schema in the shared database (contract: "Postgres (its own schema)"). */
export const MWL_SCHEMA = 'mwl';

/**
 * It calls PACS (Modality Worklist C-FIND) as the dimse-worker does: production refuses to start
 * without EGRESS_ALLOW_CIDRS; a malformed egress variable is named at boot.
 */
export function loadMwlMppsEnv(source: NodeJS.ProcessEnv = process.env): MwlMppsEnv {
  const env = loadEnv(MwlMppsEnv, source);
  egressPolicyFromEnv(env, { databaseUrl: env.DATABASE_URL });
  return env;
}
