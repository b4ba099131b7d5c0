import { ApiPropertyOptional } from '@nestjs/swagger';
import { DiscontinuationReasons, type DiscontinuationReason } from '@pacslink/contracts';
import { IsIn, IsOptional } from 'class-validator';

export class DiscontinueWorklistTaskRequest {
  @ApiPropertyOptional({
    enum: Object.keys(DiscontinuationReasons),
    description:
      'Why, as a code of PS3.16 CID 9300 (Procedure Discontinuation Reasons, scheme DCM); default 110513, "Discontinued for unspecified reason".',
    example: '110514',
  })
  @IsOptional()
  @IsIn(Object.keys(DiscontinuationReasons))
  reason?: DiscontinuationReason;
}
