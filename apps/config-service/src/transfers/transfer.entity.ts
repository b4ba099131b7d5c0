import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TransferDirection, TransferMethod, TransferStatus } from '@pacslink/contracts';

@Entity({ name: 'transfer' })
export class Transfer {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') direction!: TransferDirection;
  @Column('uuid', { name: 'pacs_config_id' }) pacsConfigId!: string;
  /** The configuration's AE title when the transfer was made (events carry it). */
  @Column('text', { name: 'pacs_ae_title' }) pacsAeTitle!: string;
  @Column('text', { name: 'study_instance_uid' }) studyInstanceUid!: string;
  @Column('text', { name: 'series_instance_uid', nullable: true }) seriesInstanceUid!: string | null;
  @Column('text') status!: TransferStatus;
  @Column('text') method!: TransferMethod;
  /** An import whose C-GET gave way to C-MOVE: why, in words. */
  @Column('text', { nullable: true }) fallback!: string | null;
  @Column('int') attempts!: number;
  /** How many times POST /retry restarted it. */
  @Column('int') retries!: number;
  @Column('text', { nullable: true }) error!: string | null;
  @Column('int') total!: number;
  @Column('int') completed!: number;
  @Column('int') failed!: number;
  @Column('int') warning!: number;
  @Column('text', { name: 'created_by' }) createdBy!: string;
  @Column('text', { name: 'idempotency_key', nullable: true }) idempotencyKey!: string | null;
  /** A hash of the request an Idempotency-Key was first used with. */
  @Column('text', { name: 'request_fingerprint', nullable: true }) requestFingerprint!: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
  @Column('timestamptz', { name: 'progress_published_at', nullable: true }) progressPublishedAt!: Date | null;
  /**
   * The trace of the request that made the transfer (W3C headers; null without tracing): every batch
   * command joins it, whatever work dispatches the batch (a sweep, another transfer's report).
   */
  @Column('jsonb', { name: 'trace_context', nullable: true }) traceContext!: Record<string, string> | null;
}
