import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * An AE title the application may call a PACS by. Unique case-insensitively (a unique index on
 * `lower(ae_title)`, see the migration); stored trimmed, as given.
 */
@Entity({ name: 'local_ae_title' })
export class LocalAeTitle {
  @PrimaryColumn('text', { name: 'ae_title' }) aeTitle!: string;
  @Column('text', { nullable: true }) description!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
