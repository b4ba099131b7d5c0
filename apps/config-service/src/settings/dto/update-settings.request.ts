import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import { IsAeTitle, TrimAeTitle } from '@pacslink/dicom';

/** PUT replaces the settings: both fields are required. */
export class UpdateSettingsRequest {
  @ApiProperty({
    example: false,
    description:
      'While false, no PACS is offered for import or export and new transfers are refused (409). ' +
      'A JSON boolean: the string "true" is refused.',
  })
  @IsBoolean()
  allowTransfer!: boolean;

  @ApiProperty({
    example: 'PACSLINK',
    description:
      'The calling AE title used when none is given; one of the local AE titles (GET /api/v1/local-ae-titles), ' +
      'matched case-insensitively after trimming spaces and stored as that local AE title is spelled.',
  })
  @TrimAeTitle()
  @IsAeTitle()
  defaultCallingAeTitle!: string;
}
