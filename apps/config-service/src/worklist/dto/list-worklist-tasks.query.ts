import { ApiPropertyOptional } from '@nestjs/swagger';
import { WorklistTaskStatuses, type WorklistTaskStatus } from '@pacslink/contracts';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageQuery } from '../../http/dto/page.dto';

/** `GET /worklist/tasks`: the page, a configuration, statuses (repeated or comma-separated). */
export class ListWorklistTasksQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only the tasks of this configuration.' })
  @IsOptional()
  @IsUUID()
  pacsConfigId?: string;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', enum: [...WorklistTaskStatuses] },
    example: ['scheduled', 'in-progress'],
    description:
      'Only tasks in these statuses (comma-separated or repeated); default scheduled and in-progress.',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    (Array.isArray(value) ? value : [value]).flatMap((part) => String(part).split(',')).filter(Boolean),
  )
  @IsIn(WorklistTaskStatuses, { each: true })
  status?: WorklistTaskStatus[];
}
