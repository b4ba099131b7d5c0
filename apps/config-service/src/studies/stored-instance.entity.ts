import { Column, Entity, PrimaryColumn } from 'typeorm';

/** bigint arrives from pg as a string; an instance is far below 2^53 bytes. */
const bigintAsNumber = { to: (value: number) => value, from: (value: string) => Number(value) };

/** One instance in the study store; its file is `path`, relative to STORE_DIR. */
@Entity({ name: 'stored_instance' })
export class StoredInstance {
  @PrimaryColumn('text', { name: 'sop_instance_uid' }) sopInstanceUid!: string;
  @Column('text', { name: 'study_instance_uid' }) studyInstanceUid!: string;
  @Column('text', { name: 'series_instance_uid' }) seriesInstanceUid!: string;
  @Column('text', { name: 'sop_class_uid' }) sopClassUid!: string;
  @Column('text', { name: 'transfer_syntax_uid' }) transferSyntaxUid!: string;
  @Column('bigint', { name: 'size_bytes', transformer: bigintAsNumber }) sizeBytes!: number;
  @Column('text') path!: string;
  @Column('text', { nullable: true }) modality!: string | null;
  @Column('timestamptz', { name: 'stored_at' }) storedAt!: Date;
}
