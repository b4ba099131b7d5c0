import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * pending → dispatched (command in the outbox) → running (a worker run claimed it; lease renewed by
 * its reports) → done; pending again after a transient failure; dispatched again (same attempt,
 * for the redelivered command) when the run holding it stopped reporting; cancelled with its
 * transfer. See batch-transitions.ts.
 */
/** send: an export batch; plan: an import lists the study; retrieve: an import brings instances. */
export type TransferBatchKind = 'send' | 'plan' | 'retrieve';

export type TransferBatchState = 'pending' | 'dispatched' | 'running' | 'done' | 'cancelled';

@Entity({ name: 'transfer_batch' })
export class TransferBatch {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'transfer_id' }) transferId!: string;
  @Column('uuid', { name: 'pacs_config_id' }) pacsConfigId!: string;
  @Column('int') seq!: number;
  @Column('text') kind!: TransferBatchKind;
  /** A C-MOVE retrieve batch whose run ended: running, leased, until its instances arrive. */
  @Column('boolean', { name: 'awaiting_arrivals' }) awaitingArrivals!: boolean;
  @Column('text') state!: TransferBatchState;
  /** Raised by every dispatch; a claim or report naming another attempt is stale. */
  @Column('int') attempt!: number;
  /** The worker run that holds (or last held) the current attempt. */
  @Column('uuid', { nullable: true }) claimant!: string | null;
  /** Attempts that failed (transient failures, a holder gone silent): bounded by maxAttempts. */
  @Column('int') failures!: number;
  @Column('timestamptz', { name: 'available_at' }) availableAt!: Date;
  @Column('timestamptz', { name: 'lease_until', nullable: true }) leaseUntil!: Date | null;
  @Column('text', { name: 'last_error', nullable: true }) lastError!: string | null;
  /** A dispatched batch's claim held until a slot frees: the run, and where its answer goes. */
  @Column('uuid', { name: 'held_by', nullable: true }) heldBy!: string | null;
  @Column('text', { name: 'held_reply_to', nullable: true }) heldReplyTo!: string | null;
  @Column('text', { name: 'held_correlation_id', nullable: true }) heldCorrelationId!: string | null;
  @Column('timestamptz', { name: 'held_at', nullable: true }) heldAt!: Date | null;
}
