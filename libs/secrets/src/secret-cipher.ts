import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const FORMAT = 'v2';
/** Written before the v2 format, read only to re-encrypt it (config-service, at rest). */
const LEGACY_FORMAT = 'v1';
const IV_BYTES = 12;
/**
 * The full 128-bit GCM tag, pinned: without authTagLength Node accepts a tag cut down to 4 bytes,
 * and a forger then needs to match 32 bits, not 128 (NIST SP 800-38D, appendix C).
 */
const TAG_BYTES = 16;

export class SecretDecryptionError extends Error {
  override readonly name: string = 'SecretDecryptionError';
}

/**
 * The secret was made with a key this process does not have. The one refusal that another try can
 * cure: during a key rollout another replica (or this one, restarted) may hold the key.
 */
export class UnknownSecretKeyError extends SecretDecryptionError {
  override readonly name = 'UnknownSecretKeyError';
}

/**
 * Where a secret belongs and where it may be sent: its ciphertext only decrypts for the same four
 * values (AES-GCM additional authenticated data). `destination` is what credentialDestination
 * makes of the URLs the secret goes to.
 */
export interface SecretContext {
  table: string;
  rowId: string;
  field: string;
  destination: string;
}

/** Where a v1 secret belongs: v1 bound no destination. */
type LegacyContext = Omit<SecretContext, 'destination'>;

/**
 * Encrypts PACS credentials with AES-256-GCM under the current key (SECRETS_KEY) and decrypts
 * under it or a previous one (SECRETS_PREVIOUS_KEYS), chosen by the key id each value carries.
 * Each value is bound to its row, field and destination through the additional authenticated data,
 * so a ciphertext copied to another row or field, or sent with another URL, fails to decrypt.
 * Stored form: `v2:<keyId>:<destination>:<iv>:<tag>:<ciphertext>` (base64 parts; the destination
 * in clear too, only to name it when it does not match: what decrypts is the caller's).
 */
export class SecretCipher {
  /** The id of the current key, the one every encryption uses. */
  readonly keyId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    this.keyId = this.addKey(current, 'SECRETS_KEY');
    previous.forEach((key, index) => this.addKey(key, `SECRETS_PREVIOUS_KEYS entry ${index + 1}`));
  }

  static fromBase64(current: string, previous: readonly string[] = []): SecretCipher {
    const decode = (value: string) => Buffer.from(value, 'base64');
    return new SecretCipher(decode(current), previous.map(decode));
  }

  /** The ids of the keys this cipher reads with, the current one first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  encrypt(plaintext: string, context: SecretContext): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.currentKey(), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const destination = Buffer.from(context.destination, 'utf8');
    return [FORMAT, this.keyId, destination, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (Buffer.isBuffer(part) ? part.toString('base64') : part))
      .join(':');
  }

  /** A v2 secret, only for the destination it was entered for. */
  decrypt(stored: string, context: SecretContext): string {
    const parts = stored.split(':');
    if (parts[0] === LEGACY_FORMAT) {
      throw new SecretDecryptionError(
        'the secret is in format v1, which is not bound to where it may be sent: refused (config-service re-encrypts it as v2 before it sends it)',
      );
    }
    const [format, keyId, destination, iv, tag, ciphertext] = parts;
    if (format !== FORMAT || ciphertext === undefined || parts.length !== 6) {
      throw new SecretDecryptionError('not a pacslink secret');
    }
    const enteredFor = Buffer.from(destination, 'base64').toString('utf8');
    if (enteredFor !== context.destination) {
      throw new SecretDecryptionError(
        `the credential was entered for ${enteredFor}; this request goes to ${context.destination}: enter it again`,
      );
    }
    return this.open(
      { keyId, iv, tag, ciphertext },
      additionalData(context),
      `the secret does not belong to ${context.table}.${context.field} of ${context.rowId} for ${context.destination}`,
    );
  }

  /** Whether `stored` is already what encrypt would make for `context` now (format and key). */
  isCurrent(stored: string, context: SecretContext): boolean {
    const [format, keyId, destination] = stored.split(':');
    return (
      format === FORMAT &&
      keyId === this.keyId &&
      Buffer.from(destination ?? '', 'base64').toString('utf8') === context.destination
    );
  }

  /**
   * A stored secret (v1, or v2 under any known key) as v2 under the current key; `stored` itself
   * when it is that already. Only config-service reads v1, at rest, to turn it into v2.
   */
  reencrypt(stored: string, context: SecretContext): string {
    if (this.isCurrent(stored, context)) return stored;
    return this.encrypt(this.decryptStored(stored, context), context);
  }

  private decryptStored(stored: string, context: SecretContext): string {
    const parts = stored.split(':');
    if (parts[0] !== LEGACY_FORMAT) return this.decrypt(stored, context);
    const [, keyId, iv, tag, ciphertext] = parts;
    if (ciphertext === undefined || parts.length !== 5)
      throw new SecretDecryptionError('not a pacslink secret');
    return this.open(
      { keyId, iv, tag, ciphertext },
      legacyAdditionalData(context),
      `the secret does not belong to ${context.table}.${context.field} of ${context.rowId}`,
    );
  }

  private open(
    parts: { keyId: string; iv: string; tag: string; ciphertext: string },
    aad: Buffer,
    mismatch: string,
  ): string {
    const key = this.keys.get(parts.keyId);
    if (!key) {
      const previous = this.keyIds.slice(1);
      throw new UnknownSecretKeyError(
        `the secret was encrypted with key ${parts.keyId}, which is neither SECRETS_KEY (key ${this.keyId}) nor in SECRETS_PREVIOUS_KEYS (${previous.length > 0 ? `keys ${previous.join(', ')}` : 'unset'})`,
      );
    }
    const iv = Buffer.from(parts.iv, 'base64');
    const tag = Buffer.from(parts.tag, 'base64');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new SecretDecryptionError(
        `the secret's IV and tag are ${iv.length} and ${tag.length} bytes, not ${IV_BYTES} and ${TAG_BYTES}: refused`,
      );
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      const plaintext = Buffer.concat([
        decipher.update(Buffer.from(parts.ciphertext, 'base64')),
        decipher.final(),
      ]);
      return plaintext.toString('utf8');
    } catch {
      throw new SecretDecryptionError(mismatch);
    }
  }

  private currentKey(): Buffer {
    return this.keys.get(this.keyId) as Buffer;
  }

  private addKey(key: Buffer, name: string): string {
    if (key.length !== 32) throw new Error(`${name} must be 32 bytes (base64), got ${key.length}`);
    const id = createHash('sha256').update(key).digest('hex').slice(0, 8);
    const known = this.keys.get(id);
    if (known && !known.equals(key)) throw new Error(`${name} has the same key id (${id}) as another key`);
    this.keys.set(id, key);
    return id;
  }
}

function additionalData({ table, rowId, field, destination }: SecretContext): Buffer {
  return Buffer.from([FORMAT, table, rowId, field, destination].join('\u0000'), 'utf8');
}

function legacyAdditionalData({ table, rowId, field }: LegacyContext): Buffer {
  return Buffer.from(`${table}\u0000${rowId}\u0000${field}`, 'utf8');
}
