import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { Envelope } from '@pacslink/contracts';

@Entity({ name: 'outbox_message' })
@Index('outbox_message_pending', ['availableAt'], { where: 'sent_at IS NULL' })
export class OutboxMessage {
  /** The envelope's eventId: also the AMQP messageId consumers deduplicate on. */
  @PrimaryColumn('uuid') id!: string;
  @Column('text') exchange!: string;
  @Column('text', { name: 'routing_key' }) routingKey!: string;
  @Column('jsonb') envelope!: Envelope;
  /** The enqueuing transaction's trace context (W3C headers); null without tracing. */
  @Column('jsonb', { name: 'trace_context', nullable: true }) traceContext!: Record<string, string> | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'available_at', default: () => 'now()' }) availableAt!: Date;
  @Column('int', { default: 0 }) attempts!: number;
  @Column('text', { name: 'last_error', nullable: true }) lastError!: string | null;
  @Column('timestamptz', { name: 'sent_at', nullable: true }) sentAt!: Date | null;
}
