import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  TransferDirections,
  TransferStatuses,
  type TransferDirection,
  type TransferStatus,
} from '@pacslink/contracts';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageQuery } from '../../http/dto/page.dto';

export class ListTransfersQuery extends PageQuery {
  @ApiPropertyOptional({ enum: TransferStatuses })
  @IsOptional()
  @IsIn(TransferStatuses)
  status?: TransferStatus;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  pacsConfigId?: string;

  @ApiPropertyOptional({ enum: TransferDirections })
  @IsOptional()
  @IsIn(TransferDirections)
  direction?: TransferDirection;
}

export const TransferInstanceStatuses = ['pending', 'success', 'warning', 'failure'] as const;

export class ListTransferInstancesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: TransferInstanceStatuses, description: 'Only instances with this outcome.' })
  @IsOptional()
  @IsIn(TransferInstanceStatuses)
  status?: (typeof TransferInstanceStatuses)[number];
}
