import { ApiProperty } from '@nestjs/swagger';
import type { QueryResult } from '@pacslink/contracts';

/** The contract's query answer: DICOM JSON datasets, the same shape for C-FIND and QIDO-RS. */
export class QueryResponse implements QueryResult {
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description:
      "The matches as DICOM JSON (PS3.18 F.2): keyed by tag, each attribute with its vr and Value. Text is decoded by each answer's Specific Character Set; PN values are trimmed.",
    example: [
      {
        '00080020': { vr: 'DA', Value: ['20240115'] },
        '00080050': { vr: 'SH', Value: ['A1234'] },
        '00080061': { vr: 'CS', Value: ['CT'] },
        '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Петров^Анна' }] },
        '00100020': { vr: 'LO', Value: ['P-1001'] },
        '0020000D': { vr: 'UI', Value: ['1.2.826.0.1.3680043.8.498.1'] },
        '00201206': { vr: 'IS', Value: [2] },
        '00201208': { vr: 'IS', Value: [4] },
      },
    ],
  })
  results!: Record<string, unknown>[];
}
