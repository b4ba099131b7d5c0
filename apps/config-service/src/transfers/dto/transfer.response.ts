import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  TransferDirections,
  TransferMethods,
  TransferStatuses,
  type TransferDirection,
  type TransferMethod,
  type TransferStatus,
} from '@pacslink/contracts';
import { TransferInstanceStatuses } from './list-transfers.query';

export class TransferProgressResponse {
  @ApiProperty({
    description: 'Instances in the transfer (an import: 0 until the PACS said what the study holds).',
  })
  total!: number;
  @ApiProperty({
    description:
      'Instances the PACS accepted (export), or stored and indexed (import), with or without a warning.',
  })
  completed!: number;
  @ApiProperty({ description: 'Instances the PACS refused (export), or that did not come (import).' })
  failed!: number;
  @ApiProperty({ description: 'Instances accepted with a warning (also counted in completed).' })
  warning!: number;
}

export class TransferResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: TransferDirections }) direction!: TransferDirection;
  @ApiProperty({ format: 'uuid' }) pacsConfigId!: string;
  @ApiProperty({ description: "The configuration's AE title when the transfer was made." })
  pacsAeTitle!: string;
  @ApiProperty() studyInstanceUid!: string;
  @ApiPropertyOptional() seriesInstanceUid?: string;
  @ApiProperty({ enum: TransferStatuses }) status!: TransferStatus;
  @ApiProperty({ type: TransferProgressResponse }) progress!: TransferProgressResponse;
  @ApiProperty({
    enum: TransferMethods,
    description: 'How the instances move; an import whose C-GET gave way to C-MOVE says C-MOVE from then on.',
  })
  method!: TransferMethod;
  @ApiPropertyOptional({
    description: 'An import whose C-GET gave way to C-MOVE (retrieveMethod get-then-move): why, in words.',
  })
  fallback?: string;
  @ApiProperty({
    description:
      'How many times the work was handed to a worker for its most-tried part: 1 on the first try, raised by each automatic retry after a transient failure and by each POST /retry.',
  })
  attempts!: number;
  @ApiPropertyOptional({ description: "Why the transfer failed (the PACS's reason, the refused instances)." })
  error?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class TransferPage {
  @ApiProperty({ type: [TransferResponse] }) items!: TransferResponse[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

export class TransferInstanceResponse {
  @ApiProperty() sopInstanceUid!: string;
  @ApiProperty() seriesInstanceUid!: string;
  @ApiProperty() sopClassUid!: string;
  @ApiProperty({ enum: TransferInstanceStatuses }) status!: (typeof TransferInstanceStatuses)[number];
  @ApiPropertyOptional({ description: 'The DIMSE status code the PACS answered, when there was one.' })
  statusCode?: number;
  @ApiPropertyOptional({ description: "The PACS's reason for a warning or failure, in words." })
  reason?: string;
}

export class TransferInstancePage {
  @ApiProperty({ type: [TransferInstanceResponse] }) items!: TransferInstanceResponse[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}
