import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** The application's settings: a single row, id 1 (the table's CHECK refuses any other). */
@Entity({ name: 'settings' })
export class Settings {
  @PrimaryColumn('smallint') id!: number;
  @Column('boolean', { name: 'allow_transfer' }) allowTransfer!: boolean;
  /** A local AE title as it is stored there (a foreign key, see the migration). */
  @Column('text', { name: 'default_calling_ae_title' }) defaultCallingAeTitle!: string;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** The id of the one row. */
export const SETTINGS_ID = 1;
