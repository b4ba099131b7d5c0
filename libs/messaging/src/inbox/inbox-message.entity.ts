import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'inbox_message' })
export class InboxMessage {
  @PrimaryColumn('text') consumer!: string;
  @PrimaryColumn('text', { name: 'message_id' }) messageId!: string;
  @CreateDateColumn({ name: 'processed_at', type: 'timestamptz' }) processedAt!: Date;
}
