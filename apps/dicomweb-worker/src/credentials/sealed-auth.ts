import { SecretFieldOfAuthMethod, type ConnectionTestAuthData } from '@pacslink/contracts';
import type { DicomwebAuth } from '@pacslink/dicomweb';
import type { SecretCipher } from '@pacslink/secrets';

/** Where config-service binds the sealed secrets it sends (the pacs_config row, or a fresh id). */
const SECRET_TABLE = 'pacs_config';

/** Why a request's auth cannot be used; thrown before anything goes on the network. */
export class UnusableAuthError extends Error {
  override readonly name = 'UnusableAuthError';
}

/**
 * The auth of a request with its secret unsealed, just before use. SecretDecryptionError messages
 * name the key id and context, never the secret.
 */
export function unsealAuth(cipher: SecretCipher, auth: ConnectionTestAuthData): DicomwebAuth {
  const field = SecretFieldOfAuthMethod[auth.method];
  const secret = (): string => {
    if (field === undefined) return '';
    if (!auth.sealedSecret) throw new UnusableAuthError(`auth.${field} is missing`);
    return cipher.decrypt(auth.sealedSecret, { table: SECRET_TABLE, rowId: auth.secretContextId, field });
  };
  const required = (name: 'username' | 'tokenUrl' | 'clientId'): string => {
    const value = auth[name];
    if (value === undefined) throw new UnusableAuthError(`auth.${name} is missing`);
    return value;
  };
  switch (auth.method) {
    case 'none':
      return { method: 'none' };
    case 'basic':
      return { method: 'basic', username: required('username'), password: secret() };
    case 'bearer':
      return { method: 'bearer', token: secret() };
    case 'oauth2-client-credentials':
      return {
        method: 'oauth2-client-credentials',
        tokenUrl: required('tokenUrl'),
        clientId: required('clientId'),
        clientSecret: secret(),
        ...(auth.scope !== undefined ? { scope: auth.scope } : {}),
      };
  }
}
