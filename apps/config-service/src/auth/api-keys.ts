import { createHash, timingSafeEqual } from 'node:crypto';
import { isRole, type Actor, type Role } from './actor';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export class ApiKeysError extends Error {
  override readonly name = 'ApiKeysError';
}

/**
 * API_KEYS: comma-separated `key` or `key:role` entries (role `admin` when omitted). The role is what
 * follows the last colon, so a key that itself holds a colon is written with its role. A bad entry
 * is named by its position, never by the key.
 */
export function parseApiKeys(commaSeparated: string | undefined): { key: string; role: Role }[] {
  const entries = (commaSeparated ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  return entries.map((entry, index) => {
    const colon = entry.lastIndexOf(':');
    if (colon < 0) return { key: entry, role: 'admin' };
    const key = entry.slice(0, colon).trim();
    const role = entry.slice(colon + 1).trim();
    if (!isRole(role))
      throw new ApiKeysError(
        `API_KEYS entry ${index + 1}: the role after the last ":" must be admin or operator, not ${JSON.stringify(role.slice(0, 20))}`,
      );
    if (key.length === 0)
      throw new ApiKeysError(`API_KEYS entry ${index + 1}: the key before ":${role}" is empty`);
    return { key, role };
  });
}

/**
 * The accepted API keys. Keys are compared as SHA-256 digests with timingSafeEqual: constant time
 * whatever the presented key's length, and every configured key is compared every time.
 */
export class ApiKeys {
  private readonly keys: { digest: Buffer; actor: Actor }[];

  constructor(commaSeparated: string | undefined) {
    this.keys = parseApiKeys(commaSeparated).map(({ key, role }) => ({
      digest: digest(key),
      actor: { id: `key:${digest(key).toString('hex').slice(0, 12)}`, roles: [role] },
    }));
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** The actor for a presented key, or undefined when no configured key matches. */
  authenticate(presented: string): Actor | undefined {
    const candidate = digest(presented);
    let match: Actor | undefined;
    for (const key of this.keys) if (timingSafeEqual(key.digest, candidate)) match = key.actor;
    return match;
  }
}
