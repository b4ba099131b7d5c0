import { createHash, timingSafeEqual } from 'node:crypto';

/** Who made a request, as the audit names it: an API key's fingerprint, never the key. */
export interface Actor {
  id: string;
}

export const ANONYMOUS: Actor = { id: 'anonymous' };

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The accepted API keys. Keys are compared as SHA-256 digests with timingSafeEqual: constant time
 * whatever the presented key's length, and every configured key is compared every time.
 */
export class ApiKeys {
  private readonly keys: { digest: Buffer; actor: Actor }[];

  constructor(commaSeparated: string | undefined) {
    this.keys = (commaSeparated ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter((key) => key.length > 0)
      .map((key) => ({
        digest: digest(key),
        actor: { id: `key:${digest(key).toString('hex').slice(0, 12)}` },
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
