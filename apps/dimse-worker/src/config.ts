import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { egressPolicyFromEnv } from '@pacslink/egress';
import { ServiceEnv, loadEnv } from '@pacslink/platform';
import { STORE_IO_SETTINGS, type StoreIoSetting } from '@pacslink/store';

/**
 * When the Storage SCP's C-STORE success is durable (docs/decisions/0007-dicom-network-engine.md):
 * `instance`, before each C-STORE-RSP (two fsyncs per instance); `association`, before the
 * association's A-RELEASE-RP and its report (the RSP answered from the page cache).
 */
export const SCP_DURABILITIES = ['instance', 'association'] as const;
export type ScpDurability = (typeof SCP_DURABILITIES)[number];

export class DimseWorkerEnv extends ServiceEnv {
  @IsString() STORE_DIR = './var/store';

  /** How the store's files are read and written: auto (by STORE_DIR's filesystem), sync or pooled. */
  @IsIn(STORE_IO_SETTINGS, { message: `STORE_IO must be one of: ${STORE_IO_SETTINGS.join(', ')}` })
  STORE_IO: StoreIoSetting = 'auto';

  /** The Storage SCP: receives C-MOVE results and studies pushed by configured DIMSE PACS. */
  @Matches(/^[\x20-\x5b\x5d-\x7e]{1,16}$/, {
    message: 'SCP_AE_TITLE must be 1-16 printable ASCII characters, no backslash',
  })
  SCP_AE_TITLE = 'PACSLINK';

  // Annotated: transpile-only builds emit design:type from annotations, and class-transformer needs
  // Number here to convert the environment's string.
  // 0: any free port, the one taken is logged (tests run several workers on one host).
  @IsInt() @Min(0) @Max(65535) SCP_PORT: number = 11112;

  /** Storage SCP associations at once, over all peers; more are rejected (transient). */
  @IsInt() @Min(1) @Max(1024) SCP_MAX_ASSOCIATIONS: number = 32;

  /** Storage SCP associations at once from one configured PACS. */
  @IsInt() @Min(1) @Max(1024) SCP_MAX_ASSOCIATIONS_PER_PEER: number = 8;

  /**
   * The largest instance the Storage SCP writes to the store (bytes, meta header included); a larger
   * one is answered 0xA700 and not kept. 4 GiB: the longest value a DICOM element can declare.
   */
  @IsInt() @Min(1024) @Max(68_719_476_736) SCP_MAX_INSTANCE_BYTES: number = 4_294_967_296;

  @IsIn(SCP_DURABILITIES, { message: `SCP_DURABILITY must be one of: ${SCP_DURABILITIES.join(', ')}` })
  SCP_DURABILITY: ScpDurability = 'instance';

  /** The CIDR ranges a PACS may be in, comma-separated; required in production (docs/security.md). */
  @IsOptional() @IsString() EGRESS_ALLOW_CIDRS?: string;

  /** host:port of pacslink's own services refused beside the broker, e.g. the database (comma-separated). */
  @IsOptional() @IsString() EGRESS_DENY_ENDPOINTS?: string;
}

export const DIMSE_WORKER = 'dimse-worker';
export const DEFAULT_HTTP_PORT = 3001;

/**
 * DIMSE has no credentials: this worker never reads SECRETS_KEY, and is not given it. Production
 * refuses to start without EGRESS_ALLOW_CIDRS; a malformed egress variable is named at boot.
 */
export function loadDimseWorkerEnv(source: NodeJS.ProcessEnv = process.env): DimseWorkerEnv {
  const env = loadEnv(DimseWorkerEnv, source);
  egressPolicyFromEnv(env);
  return env;
}
