import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsUUID } from 'class-validator';

/** Body of `POST /worklist/query` (contract "Worklist"). */
export class WorklistQueryRequest {
  @ApiProperty({ format: 'uuid', description: 'A DIMSE configuration with mwl.' })
  @IsUUID()
  pacsConfigId!: string;

  @ApiPropertyOptional({
    type: 'object',
    properties: {
      scheduledDate: {
        type: 'string',
        example: '20260301-20260331',
        description: 'Scheduled Procedure Step Start Date: YYYYMMDD or a range YYYYMMDD-YYYYMMDD.',
      },
      modality: { type: 'string', example: 'CT', description: 'The step’s modality code.' },
      scheduledStationAeTitle: {
        type: 'string',
        example: 'CT_ROOM_1',
        description: 'Scheduled Station AE Title: the steps of one modality.',
      },
    },
    additionalProperties: false,
    example: { scheduledDate: '20260315', modality: 'CT' },
    description:
      'Matching on the Scheduled Procedure Step; without filters the PACS answers every step it has. Each bad filter is named as filters.<name> in the 400.',
  })
  @IsOptional()
  @IsObject()
  filters?: Record<string, unknown>;
}
