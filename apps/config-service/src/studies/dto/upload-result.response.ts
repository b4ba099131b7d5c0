import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class StoredPart {
  @ApiProperty({ example: '1.2.826.0.1.3680043.8.498.1' }) studyInstanceUid!: string;
  @ApiProperty({ example: '1.2.826.0.1.3680043.8.498.2' }) seriesInstanceUid!: string;
  @ApiProperty({ example: '1.2.826.0.1.3680043.8.498.3' }) sopInstanceUid!: string;
  @ApiProperty({ example: '1.2.840.10008.5.1.4.1.1.2' }) sopClassUid!: string;
}

export class FailedPart {
  @ApiProperty({ example: 2, description: 'the part, numbered from 1 in the order sent' }) part!: number;
  @ApiPropertyOptional({ example: '1.2.826.0.1.3680043.8.498.4' }) sopInstanceUid?: string;
  @ApiPropertyOptional({
    example: '0b9f8a4e-6c1d-4f3e-9a57-2d8c1e6f7b30',
    description:
      'the queued or running transfer that holds the instance: it may not move to another study or series until that transfer ends',
  })
  transferId?: string;
  @ApiProperty({ example: 'truncated: the file ends inside an element, after 1024 bytes' }) reason!: string;
}

/** Per instance, as STOW-RS answers (PS3.18 10.5.3): what was stored and why the rest was not. */
export class UploadResult {
  @ApiProperty({ type: [StoredPart] }) stored!: StoredPart[];
  @ApiProperty({ type: [FailedPart] }) failed!: FailedPart[];
}

/**
 * 413: the body went past one of the UPLOAD_MAX_* limits; application/problem+json carrying what
 * was stored and refused before it.
 */
export class UploadTooLargeProblem extends UploadResult {
  @ApiProperty({ example: 'https://pacslink.dev/problems/upload-too-large' }) type!: string;
  @ApiProperty({ example: 'upload too large' }) title!: string;
  @ApiProperty({ example: 413 }) status!: number;
  @ApiProperty({
    example:
      'instance (part 3) exceeds UPLOAD_MAX_INSTANCE_BYTES = 4294967296 bytes; the 2 instances received whole before it were stored, the rest of the body was not read',
    description: 'which limit, its variable and value, and what became of the body',
  })
  detail!: string;
}

/** 409: no part was stored; application/problem+json carrying the per-part answer. */
export class NothingStoredProblem extends UploadResult {
  @ApiProperty({ example: 'https://pacslink.dev/problems/nothing-stored' }) type!: string;
  @ApiProperty({ example: 'nothing stored' }) title!: string;
  @ApiProperty({ example: 409 }) status!: number;
  @ApiProperty({ example: 'none of the 2 parts was stored' }) detail!: string;
}
