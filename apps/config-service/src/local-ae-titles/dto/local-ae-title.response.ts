import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { LocalAeTitle } from '../local-ae-title.entity';

export class LocalAeTitleResponse {
  @ApiProperty({ example: 'PACSLINK', description: 'stored trimmed, as given (no upper-casing)' })
  aeTitle!: string;
  @ApiPropertyOptional({ example: 'reading room 2 viewer', maxLength: 256 })
  description?: string;
  @ApiProperty({ example: '2025-11-27T09:30:00.000Z', format: 'date-time' })
  createdAt!: string;

  static from(title: LocalAeTitle): LocalAeTitleResponse {
    return {
      aeTitle: title.aeTitle,
      ...(title.description === null ? {} : { description: title.description }),
      createdAt: title.createdAt.toISOString(),
    };
  }
}

export class LocalAeTitlePage {
  @ApiProperty({ type: [LocalAeTitleResponse], description: 'ordered by AE title, case-insensitively' })
  items!: LocalAeTitleResponse[];
  @ApiProperty({ example: 1 }) total!: number;
  @ApiProperty({ example: 50 }) limit!: number;
  @ApiProperty({ example: 0 }) offset!: number;
}
