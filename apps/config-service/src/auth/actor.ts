/**
 * The contract's two roles. `admin` changes what the suite is (settings, local AE titles, PACS
 * configurations) and reads the audit; `operator` uses it (queries, connection tests, studies,
 * transfers, worklist, events). An admin may do everything an operator may: a key listed without a
 * role (role admin, as API_KEYS always meant) keeps every right it had.
 */
export const ROLES = ['admin', 'operator'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Who made a request, as the audit names it: an API key's fingerprint or a person's `sub`, never a credential. */
export interface Actor {
  /** `key:<12 hex of the key's SHA-256>`, `oidc:<sub>` or `anonymous`. */
  id: string;
  /** A person's name from their token (the `name` claim), when the issuer gives one. */
  name?: string;
  roles: readonly Role[];
  /** When the credential stops being valid (an OIDC token's exp): what it opened ends then. */
  credentialExpiresAt?: Date;
}

/** The caller while authentication is off (development only): may do everything. */
export const ANONYMOUS: Actor = { id: 'anonymous', roles: ['admin'] };

/** Whether `actor` may act in `required`: admin covers operator. */
export function hasRole(actor: Actor, required: Role): boolean {
  return actor.roles.includes('admin') || actor.roles.includes(required);
}
