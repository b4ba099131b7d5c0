import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One change, append-only: the table refuses UPDATE and DELETE (see its migration). */
@Entity({ name: 'audit_entry' })
export class AuditEntry {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' }) id!: string;
  @CreateDateColumn({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  /** An API key's fingerprint (`key:…`), a person (`oidc:<sub>`), `anonymous` or `unauthenticated`; never a credential. */
  @Column('text') actor!: string;
  /** The person's name from their token's name claim, when it has one. */
  @Column('text', { name: 'actor_name', nullable: true }) actorName!: string | null;
  /** e.g. `settings.updated`, `pacs-config.created`, `transfer.created`. */
  @Column('text') action!: string;
  @Column('text', { name: 'entity_type' }) entityType!: string;
  @Column('text', { name: 'entity_id', nullable: true }) entityId!: string | null;
  /** The change, with every secret masked. */
  @Column('jsonb') change!: Record<string, unknown>;
}
