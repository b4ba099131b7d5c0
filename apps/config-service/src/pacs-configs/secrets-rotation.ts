import { type DataSource, MoreThan, Not, IsNull } from 'typeorm';
import { SecretDecryptionError, type SecretCipher } from '@pacslink/secrets';
import { PacsConfig } from './pacs-config.entity';
import { secretContextOf } from './pacs-config-secrets';

/** Rows read per round trip. */
const PAGE = 100;
/** Tries per row when PATCHes keep changing it under the rotation. */
const TRIES = 5;

export interface SecretsRotationReport {
  /** The current key (SECRETS_KEY), which every stored secret is now encrypted under. */
  keyId: string;
  /** Configurations that hold a secret. */
  examined: number;
  /** Of those, re-encrypted by this run. */
  reencrypted: number;
  /** Nothing to do: already v2 under the current key (a second run finds them all so), or gone meanwhile. */
  current: number;
  /** Could not be read with SECRETS_KEY nor SECRETS_PREVIOUS_KEYS: left as they are. */
  failed: { id: string; reason: string }[];
}

/**
 * Re-encrypts every stored PACS credential under the current key, in the current format (v2, bound
 * to its destination). Row by row, each an UPDATE of its own that applies only if the row still
 * has the version and secret it read: a PATCH that commits in between wins (it re-encrypted the
 * secret itself), and the row is read again. The version is not bumped: nothing a client sees
 * changes, so its ETag stays valid. Idempotent; safe while the services run, and run twice at once.
 */
export class SecretsRotation {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: SecretCipher,
  ) {}

  async run(): Promise<SecretsRotationReport> {
    const report: SecretsRotationReport = {
      keyId: this.cipher.keyId,
      examined: 0,
      reencrypted: 0,
      current: 0,
      failed: [],
    };
    const repository = this.dataSource.getRepository(PacsConfig);
    let after: string | undefined;
    for (;;) {
      const page = await repository.find({
        where: { ...(after !== undefined ? { id: MoreThan(after) } : {}), authSecret: Not(IsNull()) },
        order: { id: 'ASC' },
        take: PAGE,
      });
      for (const row of page) {
        report.examined++;
        const outcome = await this.rotateRow(row);
        if (typeof outcome === 'object') report.failed.push({ id: row.id, reason: outcome.reason });
        else report[outcome]++;
      }
      if (page.length < PAGE) return report;
      after = page[page.length - 1].id;
    }
  }

  private async rotateRow(first: PacsConfig): Promise<'reencrypted' | 'current' | { reason: string }> {
    let row: PacsConfig | null = first;
    for (let tried = 0; tried < TRIES && row?.authSecret; tried++) {
      const context = secretContextOf(row);
      if (context === undefined || this.cipher.isCurrent(row.authSecret, context)) return 'current';
      let renewed: string;
      try {
        renewed = this.cipher.reencrypt(row.authSecret, context);
      } catch (error) {
        if (error instanceof SecretDecryptionError) return { reason: error.message };
        throw error;
      }
      const { affected } = await this.dataSource
        .createQueryBuilder()
        .update(PacsConfig)
        .set({ authSecret: renewed })
        .where('id = :id AND version = :version AND auth_secret = :stored', {
          id: row.id,
          version: row.version,
          stored: row.authSecret,
        })
        .execute();
      if (affected === 1) return 'reencrypted';
      // Changed (or deleted) since it was read: read it again.
      row = await this.dataSource.getRepository(PacsConfig).findOneBy({ id: row.id });
    }
    // Deleted, its secret cleared, or changed by TRIES PATCHes in a row (each of which re-encrypted it).
    return row?.authSecret ? { reason: `changed ${TRIES} times while being rotated; run again` } : 'current';
  }
}
