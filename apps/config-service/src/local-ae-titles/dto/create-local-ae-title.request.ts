import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, ValidateBy, type ValidationOptions } from 'class-validator';
import { IsAeTitle, TrimAeTitle } from '@pacslink/dicom';

export const DESCRIPTION_MAX_LENGTH = 256;

/**
 * At most `max` characters counted as Unicode code points, as Postgres' char_length counts them
 * (class-validator's MaxLength discounts emoji variation selectors, which the column would not).
 */
function MaxCodePoints(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxCodePoints',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && [...value].length <= max,
        defaultMessage: (args) => `${args?.property} must be at most ${max} characters`,
      },
    },
    options,
  );
}

/** Postgres text cannot hold U+0000. */
function HasNoNul(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'hasNoNul',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && !value.includes('\u0000'),
        defaultMessage: (args) => `${args?.property} must not contain the character U+0000`,
      },
    },
    options,
  );
}

export class CreateLocalAeTitleRequest {
  @ApiProperty({
    example: 'PACSLINK_CT',
    description:
      'PS3.5 VR AE: 1-16 characters after trimming leading and trailing spaces, printable ASCII ' +
      '(0x20-0x7E) except backslash, not all spaces. Stored trimmed, as given (no upper-casing); ' +
      'unique among the local AE titles, compared case-insensitively.',
    pattern: '^[\\x20-\\x5B\\x5D-\\x7E]+$',
  })
  @TrimAeTitle()
  @IsAeTitle()
  aeTitle!: string;

  @ApiPropertyOptional({ example: 'reading room 2 viewer', maxLength: DESCRIPTION_MAX_LENGTH })
  @IsOptional()
  @IsString()
  @MaxCodePoints(DESCRIPTION_MAX_LENGTH)
  @HasNoNul()
  description?: string;
}
