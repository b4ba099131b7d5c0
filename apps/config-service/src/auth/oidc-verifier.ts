import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { isRole, type Actor, type Role } from './actor';

export interface OidcOptions {
  /** OIDC_ISSUER_URL: the `iss` the tokens must carry; its discovery document names the JWKS. */
  issuerUrl: string;
  /** OIDC_AUDIENCE: the `aud` the tokens must carry (this API). */
  audience: string;
  /** OIDC_ROLES_CLAIM: where the roles are; a dotted path reaches into objects (`realm_access.roles`). */
  rolesClaim: string;
}

/** The token is not acceptable: 401, with a reason a person can act on. */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';
}

/** The issuer or its keys cannot be reached, so no token can be checked now: 503. */
export class IssuerUnavailableError extends Error {
  override readonly name = 'IssuerUnavailableError';
}

// Asymmetric signatures only: a symmetric one would need a shared secret, and `none` is never a signature.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Clock skew allowed between the issuer and us for exp and nbf. */
const CLOCK_TOLERANCE_S = 5;
/** A discovery that failed is tried again after this long, not on every request. */
const DISCOVERY_RETRY_MS = 5_000;
const FETCH_TIMEOUT_MS = 5_000;

type Jwks = ReturnType<typeof createRemoteJWKSet>;

/**
 * Checks OpenID Connect bearer tokens (JWT): the issuer's keys come from the JWKS its discovery
 * document names, fetched once and cached by jose (refetched when a token names an unknown key,
 * so the issuer can rotate keys). Signature, `iss`, `aud`, `exp` and `nbf` are checked; `sub` must be a
 * non-empty string.
 */
export class OidcVerifier {
  private jwks?: Promise<Jwks>;
  private discoveryFailedAt = 0;

  constructor(private readonly options: OidcOptions) {}

  async verify(token: string): Promise<Actor> {
    const jwks = await this.keys();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: this.options.issuerUrl,
        audience: this.options.audience,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw toTokenError(error);
    }
    // The audit names the person by sub: jose would check only that it is there, and null, "" or an
    // object there would name nobody (OpenID Connect Core 1.0 §2: a non-empty string).
    const subject = payload.sub;
    if (typeof subject !== 'string' || subject.trim() === '')
      throw new TokenRejectedError("the token's sub claim is missing or not valid");
    const name =
      typeof payload.name === 'string' && payload.name.trim() !== '' ? payload.name.trim() : undefined;
    return {
      id: `oidc:${subject}`,
      ...(name !== undefined ? { name } : {}),
      roles: rolesIn(claimAt(payload, this.options.rolesClaim)),
      // requiredClaims made jose check that exp is a number.
      credentialExpiresAt: new Date((payload.exp as number) * 1000),
    };
  }

  private keys(): Promise<Jwks> {
    if (!this.jwks) {
      if (Date.now() - this.discoveryFailedAt < DISCOVERY_RETRY_MS)
        return Promise.reject(
          new IssuerUnavailableError(
            `the identity provider ${this.options.issuerUrl} did not answer its discovery document; retrying shortly`,
          ),
        );
      this.jwks = this.discover().catch((error: unknown) => {
        this.jwks = undefined;
        this.discoveryFailedAt = Date.now();
        throw error;
      });
    }
    return this.jwks;
  }

  /** OpenID Connect Discovery 1.0 §4: `<issuer>/.well-known/openid-configuration`, whose `issuer` must be ours. */
  private async discover(): Promise<Jwks> {
    const issuer = this.options.issuerUrl;
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = (await response.json()) as typeof document;
    } catch (error) {
      throw new IssuerUnavailableError(
        `cannot read the identity provider's discovery document ${url}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (document.issuer !== issuer)
      throw new IssuerUnavailableError(
        `the discovery document at ${url} names issuer ${JSON.stringify(document.issuer)}, not OIDC_ISSUER_URL ${JSON.stringify(issuer)}`,
      );
    if (typeof document.jwks_uri !== 'string')
      throw new IssuerUnavailableError(`the discovery document at ${url} names no jwks_uri`);
    return createRemoteJWKSet(new URL(document.jwks_uri), { timeoutDuration: FETCH_TIMEOUT_MS });
  }
}

/** The value at a dotted claim path, or at the whole name when the token has such a claim. */
export function claimAt(payload: JWTPayload, path: string): unknown {
  if (path in payload) return payload[path];
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The pacslink roles in a claim: an array of strings or one space-separated string; others are ignored. */
export function rolesIn(claim: unknown): Role[] {
  const values = Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(/\s+/) : [];
  return [...new Set(values.filter(isRole))];
}

function toTokenError(error: unknown): Error {
  if (error instanceof errors.JWTExpired) return new TokenRejectedError('the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf':
        return new TokenRejectedError('the token is not valid yet (nbf)');
      case 'iss':
        return new TokenRejectedError('the token was issued by another issuer than OIDC_ISSUER_URL');
      case 'aud':
        return new TokenRejectedError('the token is for another audience than OIDC_AUDIENCE');
      default:
        return new TokenRejectedError(`the token's ${error.claim} claim is missing or not valid`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return new TokenRejectedError('the token is not signed with an algorithm the issuer uses');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed)
    return new TokenRejectedError("the token's signature does not match the issuer's keys");
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
    return new IssuerUnavailableError(`the identity provider's keys could not be read: ${error.message}`);
  if (error instanceof errors.JOSEError) return new TokenRejectedError('the token is not a valid signed JWT');
  // fetch failures of the JWKS (refused, DNS) are plain errors.
  return new IssuerUnavailableError(
    `the identity provider's keys could not be read: ${error instanceof Error ? error.message : String(error)}`,
  );
}
