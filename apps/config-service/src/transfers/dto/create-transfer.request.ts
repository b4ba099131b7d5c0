import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DICOM_UID, TransferDirections, type TransferDirection } from '@pacslink/contracts';
import { IsIn, IsOptional, IsUUID, Matches, MaxLength } from 'class-validator';

const UID_MESSAGE = 'must be a DICOM UID: digits and dots, at most 64 characters (PS3.5 9.1)';

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
  @Matches(DICOM_UID, { message: `studyInstanceUid ${UID_MESSAGE}` })
  @MaxLength(64, { message: `studyInstanceUid ${UID_MESSAGE}` })
  studyInstanceUid!: string;

  @ApiPropertyOptional({ description: 'Only this series of the study.' })
  @IsOptional()
  @Matches(DICOM_UID, { message: `seriesInstanceUid ${UID_MESSAGE}` })
  @MaxLength(64, { message: `seriesInstanceUid ${UID_MESSAGE}` })
  seriesInstanceUid?: string;
}
