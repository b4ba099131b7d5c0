import { SecretFieldOfAuthMethod, type ConnectionTestAuthData } from '@pacslink/contracts';
import type { DicomwebAuth } from '@pacslink/dicomweb';
import { CredentialDestinationError, credentialDestination, type SecretCipher } from '@pacslink/secrets';

/** Where config-service binds the sealed secrets it sends (the pacs_config row, or a fresh id). */
const SECRET_TABLE = 'pacs_config';

/** Why a request's auth cannot be used; thrown before anything goes on the network. */
export class UnusableAuthError extends Error {
  override readonly name = 'UnusableAuthError';
}

/** A request's DICOMweb target: the URL it is about to use and its sealed auth. */
export interface SealedTarget {
  url: string;
  auth: ConnectionTestAuthData;
}

/**
 * The auth of a request with its secret unsealed, just before use. The secret only decrypts for
 * the destination computed here from the URLs this request is about to use (the DICOMweb url, and
 * the token URL for OAuth2), so a sealed secret replayed in a command with another URL is refused.
 * SecretDecryptionError messages name the key id, context and destinations, never the secret.
 */
export function unsealAuth(cipher: SecretCipher, { url, auth }: SealedTarget): DicomwebAuth {
  const field = SecretFieldOfAuthMethod[auth.method];
  const secret = (): string => {
    if (field === undefined) return '';
    if (!auth.sealedSecret) throw new UnusableAuthError(`auth.${field} is missing`);
    let destination: string;
    try {
      destination = credentialDestination(field, { url, tokenUrl: auth.tokenUrl });
    } catch (error) {
      if (error instanceof CredentialDestinationError) throw new UnusableAuthError(error.message);
      throw error;
    }
    return cipher.decrypt(auth.sealedSecret, {
      table: SECRET_TABLE,
      rowId: auth.secretContextId,
      field,
      destination,
    });
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
