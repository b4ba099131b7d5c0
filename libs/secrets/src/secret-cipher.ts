import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const FORMAT = 'v1';

export class SecretDecryptionError extends Error {
  override readonly name = 'SecretDecryptionError';
}

/** Where a secret belongs: its ciphertext only decrypts there (AES-GCM additional data). */
export interface SecretContext {
  table: string;
  rowId: string;
  field: string;
}

/**
 * Encrypts PACS credentials at rest with AES-256-GCM. Each value is bound to its row and field
 * through the additional authenticated data, so a ciphertext copied to another row or field fails
 * to decrypt; it carries the id of the key that made it, for rotation.
 * Stored form: `v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64 parts).
 */
export class SecretCipher {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error(`SECRETS_KEY must be 32 bytes (base64), got ${key.length}`);
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  static fromBase64(value: string): SecretCipher {
    return new SecretCipher(Buffer.from(value, 'base64'));
  }

  encrypt(plaintext: string, context: SecretContext): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    cipher.setAAD(additionalData(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, this.keyId, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (Buffer.isBuffer(part) ? part.toString('base64') : part))
      .join(':');
  }

  decrypt(stored: string, context: SecretContext): string {
    const [format, keyId, iv, tag, ciphertext] = stored.split(':');
    if (format !== FORMAT || !ciphertext) throw new SecretDecryptionError('not a pacslink secret');
    if (keyId !== this.keyId) {
      throw new SecretDecryptionError(
        `secret was encrypted with key ${keyId}, SECRETS_KEY is key ${this.keyId}`,
      );
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, Buffer.from(iv, 'base64'));
      decipher.setAAD(additionalData(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new SecretDecryptionError(
        `secret does not belong to ${context.table}.${context.field} of ${context.rowId}`,
      );
    }
  }
}

function additionalData({ table, rowId, field }: SecretContext): Buffer {
  return Buffer.from(`${table}\u0000${rowId}\u0000${field}`, 'utf8');
}
