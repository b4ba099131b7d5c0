import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AuditEntry } from '../audit-entry.entity';

export class AuditEntryResponse {
  @ApiProperty({ example: '42' }) id!: string;
  @ApiProperty() occurredAt!: string;
  @ApiProperty({ example: 'key:3f2a9c1b7d4e', description: "the API key's fingerprint, or anonymous" })
  actor!: string;
  @ApiProperty({ example: 'pacs-config.updated' }) action!: string;
  @ApiProperty({ example: 'pacs-config' }) entityType!: string;
  @ApiPropertyOptional({ nullable: true }) entityId!: string | null;
  @ApiProperty({
    description: 'the change, secrets masked as ***',
    type: 'object',
    additionalProperties: true,
  })
  change!: Record<string, unknown>;

  static from(entry: AuditEntry): AuditEntryResponse {
    return { ...entry, occurredAt: entry.occurredAt.toISOString() };
  }
}

export class AuditPage {
  @ApiProperty({ type: [AuditEntryResponse] }) items!: AuditEntryResponse[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}
