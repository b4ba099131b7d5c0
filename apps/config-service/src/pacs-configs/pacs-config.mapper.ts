import type { PacsConfigEventData } from '@pacslink/contracts';
import type { AuthDto, AuthPatchDto } from './dto/auth.dto';
import type { CreatePacsConfigDto } from './dto/create-pacs-config.dto';
import type { PatchPacsConfigDto } from './dto/patch-pacs-config.dto';
import type { CircuitView } from '../transfers/pacs-circuits.repository';
import type { AuthResponse, PacsConfigFields, PacsConfigResponse } from './dto/pacs-config.response';
import { PacsConfig } from './pacs-config.entity';
import { nextSecret, type RowCipher } from './pacs-config-secrets';

type AuthColumns = Pick<
  PacsConfig,
  'authMethod' | 'authUsername' | 'authTokenUrl' | 'authClientId' | 'authScope' | 'authSecret'
>;
type DicomwebColumns = Pick<
  PacsConfig,
  'url' | 'qidoRs' | 'stowRs' | 'stowMultipartRelated' | 'sourceAeTitle'
> &
  AuthColumns;
type DimseColumns = Pick<
  PacsConfig,
  | 'host'
  | 'port'
  | 'cStore'
  | 'queryRetrieve'
  | 'queryAeTitle'
  | 'retrieveMethod'
  | 'moveDestinationAeTitle'
  | 'mwl'
  | 'mwlEncoding'
  | 'mpps'
  | 'maxAssociations'
>;

const NO_AUTH: AuthColumns = {
  authMethod: 'none',
  authUsername: null,
  authTokenUrl: null,
  authClientId: null,
  authScope: null,
  authSecret: null,
};
const NO_DICOMWEB: DicomwebColumns = {
  url: null,
  qidoRs: null,
  stowRs: null,
  stowMultipartRelated: null,
  sourceAeTitle: null,
  ...NO_AUTH,
  authMethod: null,
};
const NO_DIMSE: DimseColumns = {
  host: null,
  port: null,
  cStore: null,
  queryRetrieve: null,
  queryAeTitle: null,
  retrieveMethod: null,
  moveDestinationAeTitle: null,
  mwl: null,
  mwlEncoding: null,
  mpps: null,
  maxAssociations: null,
};

/** The auth columns for a requested `auth`, its secret left to nextSecret. */
function authColumns(auth: AuthDto | AuthPatchDto): AuthColumns {
  switch (auth.method) {
    case 'none':
      return NO_AUTH;
    case 'basic':
      return { ...NO_AUTH, authMethod: 'basic', authUsername: auth.username };
    case 'bearer':
      return { ...NO_AUTH, authMethod: 'bearer' };
    case 'oauth2-client-credentials':
      return {
        ...NO_AUTH,
        authMethod: 'oauth2-client-credentials',
        authTokenUrl: auth.tokenUrl,
        authClientId: auth.clientId,
        authScope: auth.scope ?? null,
      };
  }
}

/** The secret a request's `auth` gives, if any (write-only: password, token or clientSecret). */
function givenSecret(auth: AuthDto | AuthPatchDto | undefined): string | undefined {
  switch (auth?.method) {
    case 'basic':
      return auth.password;
    case 'bearer':
      return auth.token;
    case 'oauth2-client-credentials':
      return auth.clientSecret;
    case 'none':
    case undefined:
      return undefined;
  }
}

export function newPacsConfig(
  id: string,
  dto: CreatePacsConfigDto,
  now: Date,
  cipher: RowCipher,
): PacsConfig {
  const common = {
    id,
    type: dto.type,
    aeTitle: dto.aeTitle,
    name: dto.name,
    version: 1,
    timeoutMs: dto.timeoutMs,
    createdAt: now,
    updatedAt: now,
  };
  switch (dto.type) {
    case 'dicomweb': {
      const row = Object.assign(new PacsConfig(), common, NO_DIMSE, {
        url: dto.url,
        qidoRs: dto.qidoRs,
        stowRs: dto.stowRs,
        stowMultipartRelated: dto.stowMultipartRelated,
        sourceAeTitle: dto.sourceAeTitle ?? null,
        ...authColumns(dto.auth),
      });
      row.authSecret = nextSecret(cipher, row, givenSecret(dto.auth));
      return row;
    }
    case 'dimse':
      return Object.assign(new PacsConfig(), common, NO_DICOMWEB, {
        host: dto.host,
        port: dto.port,
        cStore: dto.cStore,
        queryRetrieve: dto.queryRetrieve,
        queryAeTitle: dto.queryAeTitle ?? null,
        retrieveMethod: dto.retrieveMethod,
        moveDestinationAeTitle: dto.moveDestinationAeTitle,
        mwl: dto.mwl,
        mwlEncoding: dto.mwlEncoding,
        mpps: dto.mpps,
        maxAssociations: dto.maxAssociations,
      });
  }
}

/**
 * The stored row after a PATCH: the named fields changed, the others kept, the version bumped. The
 * stored secret stays only where nextSecret allows it (same method, identity and destination).
 */
export function patchedPacsConfig(
  current: PacsConfig,
  patch: PatchPacsConfigDto,
  now: Date,
  cipher: RowCipher,
): PacsConfig {
  const next = Object.assign(new PacsConfig(), current, { version: current.version + 1, updatedAt: now });
  const auth = 'auth' in patch ? patch.auth : undefined;
  if (auth !== undefined) Object.assign(next, authColumns(auth));
  for (const [key, value] of Object.entries(patch) as [string, unknown][]) {
    // The DTOs' field names are the entity's; `type` cannot change and `auth` maps to columns above.
    if (value !== undefined && key !== 'type' && key !== 'auth') Object.assign(next, { [key]: value });
  }
  next.authSecret = nextSecret(cipher, next, givenSecret(auth), current);
  return next;
}

function present<T>(value: T | null, column: string): T {
  // The table's CHECK constraints guarantee these for the row's type.
  if (value === null) throw new Error(`pacs_config.${column} is NULL on a row whose type requires it`);
  return value;
}

function authResponse(row: PacsConfig): AuthResponse {
  const method = present(row.authMethod, 'auth_method');
  switch (method) {
    case 'none':
      return { method };
    case 'basic':
      return {
        method,
        username: present(row.authUsername, 'auth_username'),
        passwordSet: row.authSecret !== null,
      };
    case 'bearer':
      return { method, tokenSet: row.authSecret !== null };
    case 'oauth2-client-credentials':
      return {
        method,
        tokenUrl: present(row.authTokenUrl, 'auth_token_url'),
        clientId: present(row.authClientId, 'auth_client_id'),
        clientSecretSet: row.authSecret !== null,
        ...(row.authScope !== null ? { scope: row.authScope } : {}),
      };
  }
}

/** The API's view of a row, as its audit entries record it: never a secret, only whether one is stored. */
export function toPacsConfigFields(row: PacsConfig): PacsConfigFields {
  const common = { id: row.id, aeTitle: row.aeTitle, name: row.name };
  const times = {
    timeoutMs: row.timeoutMs,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
  switch (row.type) {
    case 'dicomweb':
      return {
        ...common,
        type: 'dicomweb',
        typeLabel: 'DW',
        url: present(row.url, 'url'),
        qidoRs: present(row.qidoRs, 'qido_rs'),
        stowRs: present(row.stowRs, 'stow_rs'),
        stowMultipartRelated: present(row.stowMultipartRelated, 'stow_multipart_related'),
        sourceAeTitle: row.sourceAeTitle,
        auth: authResponse(row),
        ...times,
      };
    case 'dimse':
      return {
        ...common,
        type: 'dimse',
        typeLabel: 'T',
        host: present(row.host, 'host'),
        port: present(row.port, 'port'),
        cStore: present(row.cStore, 'c_store'),
        queryRetrieve: present(row.queryRetrieve, 'query_retrieve'),
        queryAeTitle: row.queryAeTitle,
        retrieveMethod: present(row.retrieveMethod, 'retrieve_method'),
        moveDestinationAeTitle: present(row.moveDestinationAeTitle, 'move_destination_ae_title'),
        mwl: present(row.mwl, 'mwl'),
        mwlEncoding: present(row.mwlEncoding, 'mwl_encoding'),
        mpps: present(row.mpps, 'mpps'),
        maxAssociations: present(row.maxAssociations, 'max_associations'),
        ...times,
      };
  }
}

/** The API's answer: the configuration and its circuit. */
export function toPacsConfigResponse(row: PacsConfig, circuit: CircuitView): PacsConfigResponse {
  return {
    ...toPacsConfigFields(row),
    circuit: {
      state: circuit.state,
      failures: circuit.failures,
      openedAt: circuit.openedAt?.toISOString() ?? null,
      nextProbeAt: circuit.nextProbeAt?.toISOString() ?? null,
      reason: circuit.lastError,
    },
  };
}

/** The contract's event data: identifies the configuration, carries nothing secret. */
export function toEventData(row: PacsConfig): PacsConfigEventData {
  return { id: row.id, type: row.type, aeTitle: row.aeTitle, name: row.name };
}

/** A strong entity tag of the row's id and version: each update, and only an update, changes it. */
export function etagOf(row: Pick<PacsConfig, 'id' | 'version'>): string {
  return `"${row.id}.${row.version}"`;
}

/**
 * RFC 9110 13.1.1 If-Match: `*` or a list of entity tags. The comparison ignores a `W/` prefix:
 * proxies that compress weaken tags, and ours change with every update anyway.
 */
export function ifMatchAllows(header: string | undefined, row: Pick<PacsConfig, 'id' | 'version'>): boolean {
  if (header === undefined) return true;
  const current = etagOf(row);
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === current);
}
