import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MAX_QUERY_LIMIT } from '@pacslink/contracts';
import { queryFilterKeywords, type QueryFilterLevel } from '@pacslink/dicom';
import { IsIn, IsInt, IsObject, IsOptional, Max, Min } from 'class-validator';

export const QueryLevels = ['study', 'series', 'instance'] as const satisfies readonly QueryFilterLevel[];
export const DEFAULT_QUERY_LIMIT = 100;

/** Body of `POST /pacs-configs/{id}/query` (contract "Query"). */
export class QueryRequest {
  @ApiProperty({
    enum: QueryLevels,
    example: 'study',
    description: 'The Study Root level: C-FIND STUDY/SERIES/IMAGE, QIDO-RS studies/series/instances.',
  })
  @IsIn(QueryLevels)
  level!: QueryFilterLevel;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { PatientName: 'DOE^J*', StudyDate: '20240101-20240131' },
    description: [
      'Matching keys: DICOM keyword → value (PS3.4 C.2.2.2). A level may use its own keys and those of the levels above it.',
      `Study level: ${queryFilterKeywords('study').join(', ')}.`,
      `Series level adds: ${queryFilterKeywords('series')
        .filter((keyword) => !queryFilterKeywords('study').includes(keyword))
        .join(', ')}.`,
      `Instance level adds: ${queryFilterKeywords('instance')
        .filter((keyword) => !queryFilterKeywords('series').includes(keyword))
        .join(', ')}.`,
      'Values: at most 64 characters, no control characters; dates YYYYMMDD or ranges YYYYMMDD-YYYYMMDD, -YYYYMMDD, YYYYMMDD-; times HHMMSS (ranges likewise);',
      'wildcards * and ? only in text keys (names, IDs, descriptions, codes), never in UIDs, dates, times or numbers (PS3.4 C.2.2.2.4);',
      'UIDs as digits and dots, several separated by a backslash (UID list matching). Each bad key is named as filters.<Keyword> in the 400.',
      'Over DICOMweb the values go to the server percent-encoded; some servers (Orthanc 1.10) do not decode them, so non-ASCII values never match there.',
    ].join(' '),
  })
  @IsOptional()
  @IsObject()
  filters?: Record<string, unknown>;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_QUERY_LIMIT,
    default: DEFAULT_QUERY_LIMIT,
    example: 20,
    description: 'The most matches to answer.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_QUERY_LIMIT)
  limit?: number;

  @ApiPropertyOptional({
    minimum: 0,
    default: 0,
    example: 0,
    description:
      'Matches to skip. QIDO-RS passes it to the server; C-FIND has no offset, so the worker asks the PACS for limit + offset matches (C-CANCEL after them) and skips the first `offset` itself.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  offset?: number;
}
