import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TransferDirections, type TransferDirection } from '@pacslink/contracts';
import { IsDicomUid } from '@pacslink/dicom';
import { IsIn, IsOptional, IsUUID } from 'class-validator';

/** Body of `POST /transfers` (contract "Transfers"). */
export class CreateTransferRequest {
  @ApiProperty({ enum: TransferDirections, example: 'export' })
  @IsIn(TransferDirections)
  direction!: TransferDirection;

  @ApiProperty({
    format: 'uuid',
    description: 'The PACS configuration to send to (export) or fetch from (import).',
  })
  @IsUUID()
  pacsConfigId!: string;

  @ApiProperty({
    example: '1.2.826.0.1.3680043.8.498.1',
    description: 'The study; for export it must be in the study store.',
  })
  @IsDicomUid()
  studyInstanceUid!: string;

  @ApiPropertyOptional({ description: 'Only this series of the study.' })
  @IsOptional()
  @IsDicomUid()
  seriesInstanceUid?: string;
}
