import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';

/** Longest timeout a connection test may ask for (one hour, as the DICOMweb client allows). */
export const MAX_CONNECTION_TEST_TIMEOUT_MS = 3_600_000;

/** A DIMSE peer as the dimse-worker calls it: from `callingAeTitle` to `calledAeTitle` at host:port. */
export class DimseTargetData {
  @IsString() @MinLength(1) @MaxLength(253) host!: string;
  @IsInt() @Min(1) @Max(65535) port!: number;
  @IsString() @MinLength(1) @MaxLength(16) calledAeTitle!: string;
  @IsString() @MinLength(1) @MaxLength(16) callingAeTitle!: string;
  @IsInt() @Min(1) @Max(MAX_CONNECTION_TEST_TIMEOUT_MS) timeoutMs!: number;
}

export const ConnectionTestAuthMethods = ['none', 'basic', 'bearer', 'oauth2-client-credentials'] as const;
export type ConnectionTestAuthMethod = (typeof ConnectionTestAuthMethods)[number];

/** The field a method's one secret is sealed under (SecretCipher context `field`). */
export const SecretFieldOfAuthMethod = {
  none: undefined,
  basic: 'password',
  bearer: 'token',
  'oauth2-client-credentials': 'clientSecret',
} as const satisfies Record<ConnectionTestAuthMethod, string | undefined>;

/**
 * DICOMweb auth without any plaintext secret: `sealedSecret` is SecretCipher ciphertext bound to
 * {table: 'pacs_config', rowId: secretContextId, field: the method's secret field}; the worker
 * decrypts it just before use (docs/decisions/0002-messaging.md, "RPC").
 */
export class ConnectionTestAuthData {
  @IsIn(ConnectionTestAuthMethods) method!: ConnectionTestAuthMethod;
  @IsOptional() @IsString() @MaxLength(256) username?: string;
  @IsOptional() @IsString() @MaxLength(2048) tokenUrl?: string;
  @IsOptional() @IsString() @MaxLength(256) clientId?: string;
  @IsOptional() @IsString() @MaxLength(1024) scope?: string;
  @IsOptional() @IsString() @MaxLength(8192) sealedSecret?: string;
  @IsUUID() secretContextId!: string;
}

/** A DICOMweb service as the dicomweb-worker calls it: its URL, auth (sealed) and Vidar headers. */
export class DicomwebTargetData {
  @IsString() @MinLength(1) @MaxLength(2048) url!: string;
  @IsString() @MinLength(1) @MaxLength(16) pacsAeTitle!: string;
  @IsOptional() @IsString() @MaxLength(16) sourceAeTitle?: string;
  @ValidateNested() @Type(() => ConnectionTestAuthData) auth!: ConnectionTestAuthData;
  @IsInt() @Min(1) @Max(MAX_CONNECTION_TEST_TIMEOUT_MS) timeoutMs!: number;
}

/** A C-ECHO to the target (dimse-worker). */
export class DimseConnectionTestData extends DimseTargetData {}

/** A QIDO-RS `studies?limit=1` to the target (dicomweb-worker). */
export class DicomwebConnectionTestData extends DicomwebTargetData {}

/** The contract's connection test answer ("Connection test"). */
export interface ConnectionTestResult {
  ok: boolean;
  message: 'Connection established' | 'Connection failed';
  detail?: string;
  elapsedMs: number;
  /**
   * Failed: the protocol library's error code (e.g. EGRESS_REFUSED), for config-service to act on;
   * not part of the REST answer.
   */
  code?: string;
}

export const ConnectionTestRequests = {
  Dimse: {
    type: 'dimse.connection-test',
    version: 1,
    kind: 'request',
    exchange: Exchanges.Commands,
    data: DimseConnectionTestData,
  } satisfies MessageContract<DimseConnectionTestData>,
  Dicomweb: {
    type: 'dicomweb.connection-test',
    version: 1,
    kind: 'request',
    exchange: Exchanges.Commands,
    data: DicomwebConnectionTestData,
  } satisfies MessageContract<DicomwebConnectionTestData>,
} as const;
