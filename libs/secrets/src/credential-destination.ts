/** The fields a DICOMweb credential is stored under, one per auth method that has a secret. */
export type CredentialField = 'password' | 'token' | 'clientSecret';

/** The URLs a configuration sends its credential to. */
export interface CredentialTarget {
  /** The DICOMweb service. */
  url: string;
  /** The OAuth2 token endpoint (oauth2-client-credentials only). */
  tokenUrl?: string | null;
}

export class CredentialDestinationError extends Error {
  override readonly name = 'CredentialDestinationError';
}

/**
 * `scheme://host:port` of an http(s) URL, the port always written: whoever runs that origin reads
 * what is sent to it, whatever the path, so the origin is what a credential is bound to (as the
 * browser's same-origin policy draws the line).
 */
export function originOf(url: string, name = 'url'): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CredentialDestinationError(`${name} is not an absolute URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new CredentialDestinationError(`${name} is not an http:// or https:// URL`);
  }
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  return `${parsed.protocol}//${parsed.hostname}:${port}`;
}

/**
 * Where a credential goes, bound into its ciphertext: the DICOMweb origin for a password or a
 * bearer token; for an OAuth2 client secret, the token endpoint's origin (which receives the
 * secret) and the DICOMweb origin (which receives the access tokens bought with it).
 */
export function credentialDestination(field: CredentialField, target: CredentialTarget): string {
  const pacs = originOf(target.url);
  if (field !== 'clientSecret') return pacs;
  if (!target.tokenUrl) throw new CredentialDestinationError('auth.tokenUrl is missing');
  return `${pacs} with tokens from ${originOf(target.tokenUrl, 'auth.tokenUrl')}`;
}
