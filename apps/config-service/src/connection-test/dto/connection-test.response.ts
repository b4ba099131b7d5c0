import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ConnectionTestResult } from '@pacslink/contracts';

/** The contract's connection test answer: a failed connection is a 200 with ok false. */
export class ConnectionTestResponse implements ConnectionTestResult {
  @ApiProperty({ example: true }) ok!: boolean;

  @ApiProperty({ enum: ['Connection established', 'Connection failed'], example: 'Connection established' })
  message!: 'Connection established' | 'Connection failed';

  @ApiPropertyOptional({
    example: 'connection refused by 127.0.0.1:4243 — nothing listens there',
    description:
      'Why it failed, in words a person can act on (refused, host not found, timed out, association rejected and by whom, HTTP status, TLS, not a DICOMweb endpoint, authentication rejected, or an address the egress policy refuses: "10.9.9.9:104 (10.9.9.9) is not an allowed PACS address (EGRESS_ALLOW_CIDRS)"); on success e.g. that the server holds no studies.',
  })
  detail?: string;

  @ApiProperty({ example: 42, description: 'How long the test took at the worker.' }) elapsedMs!: number;
}
