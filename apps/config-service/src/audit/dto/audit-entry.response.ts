import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AuditEntry } from '../audit-entry.entity';

export class AuditEntryResponse {
  @ApiProperty({ example: '42' }) id!: string;
  @ApiProperty() occurredAt!: string;
  @ApiProperty({
    example: 'oidc:8d0e4c5f-2b1a-4c3d-9e8f-7a6b5c4d3e2f',
    description:
      "who: an API key's fingerprint (key:…), a person's OIDC subject (oidc:<sub>), anonymous (authentication off) or unauthenticated (a refused request)",
  })
  actor!: string;
  @ApiPropertyOptional({
    nullable: true,
    example: 'Dr. Ada Lovelace',
    description: "the person's name claim",
  })
  actorName!: string | null;
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
