import { Column, Entity, PrimaryColumn } from 'typeorm';

export type TransferInstanceStatus = 'pending' | 'success' | 'warning' | 'failure';

/**
 * One instance of a transfer, listed from the study store's index when the transfer is made; its
 * file is looked up in the index at each dispatch (a re-upload may replace it meanwhile).
 */
@Entity({ name: 'transfer_instance' })
export class TransferInstance {
  @PrimaryColumn('uuid', { name: 'transfer_id' }) transferId!: string;
  @PrimaryColumn('text', { name: 'sop_instance_uid' }) sopInstanceUid!: string;
  @Column('uuid', { name: 'batch_id' }) batchId!: string;
  @Column('text', { name: 'series_instance_uid' }) seriesInstanceUid!: string;
  @Column('text', { name: 'sop_class_uid' }) sopClassUid!: string;
  @Column('text', { name: 'transfer_syntax_uid' }) transferSyntaxUid!: string;
  @Column('bigint', {
    name: 'size_bytes',
    transformer: { to: (v: number) => v, from: (v: string) => Number(v) },
  })
  sizeBytes!: number;
  @Column('text') status!: TransferInstanceStatus;
  @Column('int', { name: 'status_code', nullable: true }) statusCode!: number | null;
  @Column('text', { nullable: true }) reason!: string | null;
}
