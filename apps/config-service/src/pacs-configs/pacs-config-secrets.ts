import { SecretFieldOfAuthMethod } from '@pacslink/contracts';
import {
  SecretDecryptionError,
  credentialDestination,
  originOf,
  type CredentialField,
  type SecretCipher,
  type SecretContext,
} from '@pacslink/secrets';
import type { PacsConfig } from './pacs-config.entity';
import { PacsConfigError, PacsConfigErrorCode } from './pacs-configs.errors';

/** Where SecretCipher binds the secrets of this table. */
export const PACS_CONFIG_TABLE = 'pacs_config';

/** What encrypting and re-encrypting a row's secret takes (SecretCipher). */
export type RowCipher = Pick<SecretCipher, 'encrypt' | 'reencrypt'>;

/** A row's SecretContext, its field one of the credential fields. */
export type RowSecretContext = SecretContext & { field: CredentialField };

/** The columns that say what a row's secret is and where it goes. */
type SecretBearing = Pick<
  PacsConfig,
  'id' | 'authMethod' | 'authUsername' | 'authClientId' | 'url' | 'authTokenUrl' | 'authSecret'
>;

const NOUN: Record<CredentialField, string> = {
  password: 'password',
  token: 'token',
  clientSecret: 'client secret',
};

function fieldOf(row: SecretBearing): CredentialField | undefined {
  return row.authMethod === null ? undefined : SecretFieldOfAuthMethod[row.authMethod];
}

function urlOf(row: SecretBearing): string {
  // The table's CHECK constraints guarantee it on a row whose method has a secret (DICOMweb).
  if (row.url === null) throw new Error('pacs_config.url is NULL on a row with an auth method');
  return row.url;
}

/**
 * What the row's secret is bound to: the row, its method's field, and where it is sent (the
 * DICOMweb origin; for OAuth2 also the token endpoint's). Undefined when the method has no secret.
 */
export function secretContextOf(row: SecretBearing): RowSecretContext | undefined {
  const field = fieldOf(row);
  if (field === undefined) return undefined;
  return {
    table: PACS_CONFIG_TABLE,
    rowId: row.id,
    field,
    destination: credentialDestination(field, { url: urlOf(row), tokenUrl: row.authTokenUrl }),
  };
}

/**
 * Why the stored secret may not stay with the row as changed, in words; undefined when it may.
 * It stays only with the same method, the same identity (the user for basic, the client for
 * OAuth2) and the same destination: scheme, host and port of the url, and of the tokenUrl for
 * OAuth2. A path change on the same origin keeps it: the same party receives it.
 */
function whyRequired(
  current: SecretBearing,
  next: SecretBearing,
  field: CredentialField,
): string | undefined {
  const noun = NOUN[field];
  if (fieldOf(current) !== field || current.authSecret === null) {
    return `is required: no ${noun} is stored (the method was ${current.authMethod ?? 'none'})`;
  }
  if (field === 'password' && current.authUsername !== next.authUsername) {
    return `is required again because username changes whose ${noun} it is`;
  }
  if (field === 'clientSecret' && current.authClientId !== next.authClientId) {
    return `is required again because clientId changes whose ${noun} it is`;
  }
  const [from, to] = [originOf(urlOf(current)), originOf(urlOf(next))];
  if (from !== to) {
    const what =
      field === 'clientSecret' ? 'the access tokens bought with the client secret are' : `the ${noun} is`;
    return `is required again because url changes where ${what} sent (${from} → ${to})`;
  }
  if (field === 'clientSecret') {
    const [fromToken, toToken] = [current, next].map((row) =>
      originOf(row.authTokenUrl ?? '', 'auth.tokenUrl'),
    );
    if (fromToken !== toToken) {
      return `is required again because tokenUrl changes where the ${noun} is sent (${fromToken} → ${toToken})`;
    }
  }
  return undefined;
}

/**
 * The secret to store for `next`: the one given, encrypted for it; else the stored one when it may
 * stay, re-encrypted under the current key (every write does, so that old keys and the v1 format
 * wear out); else the request is refused naming the field.
 */
export function nextSecret(
  cipher: RowCipher,
  next: SecretBearing,
  given: string | undefined,
  current?: SecretBearing,
): string | null {
  const context = secretContextOf(next);
  if (context === undefined) return null;
  const { field } = context;
  const refuse = (why: string) =>
    new PacsConfigError(PacsConfigErrorCode.SecretRequired, `auth.${field} ${why}`, `auth.${field}`);
  if (given !== undefined) return cipher.encrypt(given, context);
  const why = current === undefined ? 'is required' : whyRequired(current, next, field);
  // whyRequired answers undefined only when a secret is stored.
  if (why !== undefined || !current?.authSecret) throw refuse(why ?? 'is required');
  try {
    return cipher.reencrypt(current.authSecret, context);
  } catch (error) {
    if (!(error instanceof SecretDecryptionError)) throw error;
    throw refuse(`is required again because the stored ${NOUN[field]} cannot be read: ${error.message}`);
  }
}

/**
 * The row's secret as it goes to a worker: v2 under the current key, re-encrypted on the way when
 * the row still holds an older form. One that cannot be read here goes as it is, and the worker's
 * refusal says why (the key it needs), where the user sees it.
 */
export function sealedForWorker(
  cipher: Pick<SecretCipher, 'reencrypt'>,
  row: SecretBearing,
): string | undefined {
  const context = secretContextOf(row);
  if (row.authSecret === null) return undefined;
  if (context === undefined) return row.authSecret;
  try {
    return cipher.reencrypt(row.authSecret, context);
  } catch (error) {
    if (error instanceof SecretDecryptionError) return row.authSecret;
    throw error;
  }
}
