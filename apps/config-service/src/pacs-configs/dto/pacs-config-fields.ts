import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min, ValidateIf } from 'class-validator';
import { MAX_BATCHES_PER_PACS } from '@pacslink/contracts';
import { IsAeTitle, SpecificCharacterSets, TrimAeTitle } from '@pacslink/dicom';
import { RetrieveMethods } from '../pacs-config.entity';
import {
  NAME_MAX_LENGTH,
  Satisfies,
  URL_MAX_LENGTH,
  hostProblem,
  httpUrlProblem,
  textProblem,
} from './pacs-config.validators';

/**
 * How a field may appear in a request:
 * - `required`: must be there (create);
 * - `defaulted`: may be left out and then takes its default (create); null is refused;
 * - `omittable`: may be left out and then stays as it is (patch); null is refused;
 * - `clearable`: may be left out, or null to clear it.
 */
export type Presence = 'required' | 'defaulted' | 'omittable' | 'clearable';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_ASSOCIATIONS = 1;
export const DEFAULT_MWL_ENCODING = 'ISO_IR 192';
export const DEFAULT_RETRIEVE_METHOD = 'get-then-move';
/**
 * The contract's default is SCP_AE_TITLE (default PACSLINK), the AE title of our Storage SCP;
 * config-service's environment does not read SCP_AE_TITLE, so its default stands in for it.
 */
export const DEFAULT_MOVE_DESTINATION_AE_TITLE = 'PACSLINK';

const isPresent = (_: object, value: unknown): boolean => value !== undefined;

export function presence(mode: Presence, doc: ApiPropertyOptions): PropertyDecorator {
  switch (mode) {
    case 'required':
      return ApiProperty({ ...doc, required: true } as ApiPropertyOptions);
    case 'defaulted':
      return applyDecorators(ValidateIf(isPresent), ApiPropertyOptional(doc));
    case 'omittable':
      // A PATCH has no defaults: a field left out stays as it is.
      return applyDecorators(
        ValidateIf(isPresent),
        ApiPropertyOptional({
          ...doc,
          default: undefined,
          description: `${doc.description ?? ''} Left out: unchanged.`.trim(),
        }),
      );
    case 'clearable':
      return applyDecorators(IsOptional(), ApiPropertyOptional({ ...doc, nullable: true }));
  }
}

/** Each field's rules and documentation, once; the request classes say only how it may appear. */
export const Field = {
  aeTitle: (mode: Presence, description: string, example: string): PropertyDecorator =>
    applyDecorators(
      presence(mode, {
        type: String,
        description: `${description} 1–16 printable ASCII characters except backslash, leading and trailing spaces trimmed, case kept.`,
        example,
        maxLength: 16,
      }),
      TrimAeTitle(),
      IsAeTitle(),
    ),
  name: (mode: Presence): PropertyDecorator =>
    applyDecorators(
      presence(mode, {
        type: String,
        description: 'Free text shown to people, any Unicode; names may repeat.',
        example: 'Radiologie Süd – Orthanc',
        minLength: 1,
        maxLength: NAME_MAX_LENGTH,
      }),
      Satisfies('isDisplayName', textProblem(NAME_MAX_LENGTH)),
    ),
  boolean: (mode: Presence, description: string, defaultValue?: boolean): PropertyDecorator =>
    applyDecorators(
      presence(mode, { type: Boolean, description, example: true, default: defaultValue }),
      IsBoolean(),
    ),
  timeoutMs: (mode: Presence): PropertyDecorator =>
    applyDecorators(
      presence(mode, {
        type: 'integer',
        description: 'Milliseconds to wait for the PACS before giving up on a request.',
        minimum: 1000,
        maximum: 600_000,
        default: DEFAULT_TIMEOUT_MS,
        example: DEFAULT_TIMEOUT_MS,
      }),
      IsInt(),
      Min(1000),
      Max(600_000),
    ),
  url: (mode: Presence): PropertyDecorator =>
    applyDecorators(
      presence(mode, {
        type: String,
        format: 'uri',
        description:
          'Base URL of the DICOMweb service: absolute http:// or https://, no credentials (use auth), no fragment.',
        example: 'https://pacs.example.org/dicom-web',
        maxLength: URL_MAX_LENGTH,
      }),
      Satisfies('isHttpUrl', httpUrlProblem),
    ),
  host: (mode: Presence): PropertyDecorator =>
    applyDecorators(
      presence(mode, {
        type: String,
        description: 'Host name (RFC 1123) or IPv4/IPv6 address (IPv6 without brackets).',
        example: 'pacs.example.org',
        maxLength: 253,
      }),
      Satisfies('isHost', hostProblem),
    ),
  port: (mode: Presence): PropertyDecorator =>
    applyDecorators(
      presence(mode, {
        type: 'integer',
        description: 'TCP port of the DICOM service.',
        minimum: 1,
        maximum: 65535,
        example: 104,
      }),
      IsInt(),
      Min(1),
      Max(65535),
    ),
  retrieveMethod: (mode: Presence): PropertyDecorator =>
    applyDecorators(
      presence(mode, {
        enum: RetrieveMethods,
        description:
          'get-then-move: C-GET, and C-MOVE when the C-GET is unsuccessful; get: C-GET only; move: C-MOVE only.',
        default: DEFAULT_RETRIEVE_METHOD,
        example: DEFAULT_RETRIEVE_METHOD,
      }),
      IsIn(RetrieveMethods),
    ),
  mwlEncoding: (mode: Presence): PropertyDecorator =>
    applyDecorators(
      presence(mode, {
        enum: SpecificCharacterSets,
        description:
          'Specific Character Set (0008,0005) defined term used to decode worklist answers that do not declare one.',
        default: DEFAULT_MWL_ENCODING,
        example: 'ISO_IR 100',
      }),
      IsIn(SpecificCharacterSets),
    ),
  maxAssociations: (mode: Presence): PropertyDecorator =>
    applyDecorators(
      presence(mode, {
        type: 'integer',
        description: 'Parallel associations this PACS accepts, across all replicas.',
        minimum: 1,
        maximum: MAX_BATCHES_PER_PACS,
        default: DEFAULT_MAX_ASSOCIATIONS,
        example: 4,
      }),
      IsInt(),
      Min(1),
      Max(MAX_BATCHES_PER_PACS),
    ),
} as const;

/** The fields that only one type has: sent for the other type, they are refused by name. */
export const DicomwebOnlyFields = [
  'url',
  'qidoRs',
  'stowRs',
  'stowMultipartRelated',
  'sourceAeTitle',
  'auth',
];
export const DimseOnlyFields = [
  'host',
  'port',
  'cStore',
  'queryRetrieve',
  'queryAeTitle',
  'retrieveMethod',
  'moveDestinationAeTitle',
  'mwl',
  'mwlEncoding',
  'mpps',
  'maxAssociations',
];
export const ReadOnlyFields = ['id', 'typeLabel', 'createdAt', 'updatedAt'];

export function refusals(ownType: 'dicomweb' | 'dimse'): Record<string, string> {
  const foreign = ownType === 'dicomweb' ? DimseOnlyFields : DicomwebOnlyFields;
  const otherType = ownType === 'dicomweb' ? 'dimse' : 'dicomweb';
  return Object.fromEntries([
    ...foreign.map((field): [string, string] => [
      field,
      `is a ${otherType} field: not allowed on a ${ownType} configuration`,
    ]),
    ...ReadOnlyFields.map((field): [string, string] => [field, 'is read-only']),
  ]);
}
