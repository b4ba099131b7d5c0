import { createHash } from 'node:crypto';

/** RFC 6749 4.4: what a client credentials grant needs. */
export interface ClientCredentialsGrant {
  tokenUrl: URL;
  clientId: string;
  clientSecret: string;
  scope?: string;
  clientAuthentication: 'client_secret_basic' | 'client_secret_post';
  /** Bounds the token request like the PACS request it serves. */
  timeoutMs: number;
}

export interface IssuedToken {
  accessToken: string;
  /** RFC 6749 5.1 `expires_in`, seconds; optional in the RFC. */
  expiresInSeconds?: number;
}

export type TokenFetcher = (grant: ClientCredentialsGrant) => Promise<IssuedToken>;

export interface CachedToken {
  value: string;
  /** True when this call obtained it from the token endpoint (itself or by joining a fetch in flight). */
  fresh: boolean;
}

export interface TokenRequestOptions {
  /** Fetch a new token even if a cached one is still good (the connection test proves the secret). */
  forceRefresh?: boolean;
  /** The token the server just refused with 401: dropped if still cached, so a new one is fetched. */
  rejected?: string;
}

export interface OAuth2TokenCacheOptions {
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** Lifetime assumed when the answer has no `expires_in` (RFC 6749 5.1 makes it optional). */
  defaultLifetimeMs?: number;
  /** The largest safety margin; the margin is the smaller of this and 10 % of the lifetime. */
  maxSafetyMarginMs?: number;
  maxEntries?: number;
}

interface Entry {
  token?: { value: string; refreshAt: number };
  inFlight?: Promise<string>;
}

/**
 * Access tokens per (token URL, client ID, scope, secret fingerprint). A token is reused until its
 * `expires_in` minus a safety margin (the smaller of 30 s and 10 % of its lifetime, so short-lived
 * tokens stay useful), then refreshed. Concurrent callers share one token request; a failed
 * request is not cached. The secret's SHA-256 is part of the key so that a token obtained with an
 * old secret never stands in for a new one (it would hide a wrong new secret).
 */
export class OAuth2TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly defaultLifetimeMs: number;
  private readonly maxSafetyMarginMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly fetchToken: TokenFetcher,
    options: OAuth2TokenCacheOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.defaultLifetimeMs = options.defaultLifetimeMs ?? 300_000;
    this.maxSafetyMarginMs = options.maxSafetyMarginMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 1_000;
  }

  static keyOf(grant: ClientCredentialsGrant): string {
    const secret = createHash('sha256').update(grant.clientSecret).digest('base64');
    return JSON.stringify([grant.tokenUrl.href, grant.clientId, grant.scope ?? '', secret]);
  }

  /** When a token fetched at `fetchedAt` with this lifetime must be replaced. */
  refreshAt(fetchedAt: number, expiresInSeconds: number | undefined): number {
    const lifetime =
      expiresInSeconds === undefined || !Number.isFinite(expiresInSeconds)
        ? this.defaultLifetimeMs
        : Math.max(0, expiresInSeconds * 1000);
    return fetchedAt + lifetime - Math.min(this.maxSafetyMarginMs, lifetime * 0.1);
  }

  async token(grant: ClientCredentialsGrant, options: TokenRequestOptions = {}): Promise<CachedToken> {
    const key = OAuth2TokenCache.keyOf(grant);
    const entry = this.entries.get(key) ?? {};
    if (options.rejected !== undefined && entry.token?.value === options.rejected) entry.token = undefined;
    if (entry.inFlight) return { value: await entry.inFlight, fresh: true };
    if (!options.forceRefresh && entry.token && this.now() < entry.token.refreshAt) {
      return { value: entry.token.value, fresh: false };
    }

    const fetchedAt = this.now();
    const inFlight = this.fetchToken(grant).then((issued) => {
      entry.token = {
        value: issued.accessToken,
        refreshAt: this.refreshAt(fetchedAt, issued.expiresInSeconds),
      };
      return issued.accessToken;
    });
    entry.inFlight = inFlight;
    this.store(key, entry);
    try {
      return { value: await inFlight, fresh: true };
    } finally {
      if (entry.inFlight === inFlight) entry.inFlight = undefined;
    }
  }

  /** Forgets every token (e.g. when configurations change wholesale). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private store(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size <= this.maxEntries) return;
    // Oldest fetch first: a Map keeps insertion order and store() re-inserts on each fetch.
    for (const [staleKey, stale] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      if (staleKey !== key && !stale.inFlight) this.entries.delete(staleKey);
    }
  }
}
