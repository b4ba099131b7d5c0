import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { SpecificCharacterSets } from '@pacslink/dicom';
import { CircuitStates, type CircuitState } from '../../transfers/circuit-transitions';
import { RetrieveMethods, type RetrieveMethod } from '../pacs-config.entity';

/* What the API answers. Secrets never: only whether one is stored (`passwordSet`, …). */

export class NoAuthResponse {
  @ApiProperty({ enum: ['none'] }) method!: 'none';
}

export class BasicAuthResponse {
  @ApiProperty({ enum: ['basic'] }) method!: 'basic';
  @ApiProperty({ example: 'viewer' }) username!: string;
  @ApiProperty({ example: true, description: 'A password is stored (it is never returned).' })
  passwordSet!: boolean;
}

export class BearerAuthResponse {
  @ApiProperty({ enum: ['bearer'] }) method!: 'bearer';
  @ApiProperty({ example: true, description: 'A token is stored (it is never returned).' })
  tokenSet!: boolean;
}

export class OAuth2ClientCredentialsAuthResponse {
  @ApiProperty({ enum: ['oauth2-client-credentials'] }) method!: 'oauth2-client-credentials';
  @ApiProperty({ example: 'https://auth.example.org/realms/pacs/protocol/openid-connect/token' })
  tokenUrl!: string;
  @ApiProperty({ example: 'pacslink' }) clientId!: string;
  @ApiProperty({ example: true, description: 'A client secret is stored (it is never returned).' })
  clientSecretSet!: boolean;
  @ApiPropertyOptional({ example: 'dicomweb.read' }) scope?: string;
}

export type AuthResponse =
  NoAuthResponse | BasicAuthResponse | BearerAuthResponse | OAuth2ClientCredentialsAuthResponse;

export const authResponseModels = [
  NoAuthResponse,
  BasicAuthResponse,
  BearerAuthResponse,
  OAuth2ClientCredentialsAuthResponse,
];

/** Whether transfers go to the PACS now (ADR 0006, "A circuit per PACS"). */
export class PacsCircuitResponse {
  @ApiProperty({
    enum: CircuitStates,
    description:
      '`closed`: transfers go. `open`: the PACS was found unreachable by several attempts in a row; its transfers wait (spending no attempt) and fail once it has been open for TRANSFER_CIRCUIT_WAIT_MS. `half-open`: one batch is being sent as a probe.',
  })
  state!: CircuitState;
  @ApiProperty({ example: 0, description: 'Attempts in a row that found the PACS unreachable.' })
  failures!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the circuit opened.' })
  openedAt!: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Open: when the next probe may go (the cool-down doubles with each failed probe).',
  })
  nextProbeAt!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'connection refused by pacs.example.org:104 — nothing listens there',
    description: 'The last failure that found the PACS unreachable.',
  })
  reason!: string | null;
}

abstract class PacsConfigCommonResponse {
  @ApiProperty({ format: 'uuid', example: '3f0e8a1c-6b0f-4f7e-9a55-2f3b9d1c7e21' }) id!: string;
  @ApiProperty({ example: 'ORTHANC' }) aeTitle!: string;
  @ApiProperty({ example: 'Radiologie Süd – Orthanc' }) name!: string;
  @ApiProperty({ example: 30000 }) timeoutMs!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: PacsCircuitResponse }) circuit!: PacsCircuitResponse;
}

export class DicomwebPacsConfigResponse extends PacsConfigCommonResponse {
  @ApiProperty({ enum: ['dicomweb'] }) type!: 'dicomweb';
  @ApiProperty({ enum: ['DW'], description: 'Read-only label of the type.' }) typeLabel!: 'DW';
  @ApiProperty({ example: 'https://pacs.example.org/dicom-web' }) url!: string;
  @ApiProperty({ description: 'Offers import (QIDO-RS).' }) qidoRs!: boolean;
  @ApiProperty({ description: 'Offers export (STOW-RS).' }) stowRs!: boolean;
  @ApiProperty() stowMultipartRelated!: boolean;
  @ApiProperty({ type: String, nullable: true, example: 'PACSLINK' }) sourceAeTitle!: string | null;
  @ApiProperty({
    oneOf: authResponseModels.map((model) => ({ $ref: getSchemaPath(model) })),
    discriminator: { propertyName: 'method' },
  })
  auth!: AuthResponse;
}

export class DimsePacsConfigResponse extends PacsConfigCommonResponse {
  @ApiProperty({ enum: ['dimse'] }) type!: 'dimse';
  @ApiProperty({ enum: ['T'], description: 'Read-only label of the type.' }) typeLabel!: 'T';
  @ApiProperty({ example: 'pacs.example.org' }) host!: string;
  @ApiProperty({ example: 104 }) port!: number;
  @ApiProperty({ description: 'Offers export (C-STORE).' }) cStore!: boolean;
  @ApiProperty({ description: 'Offers import (C-FIND, C-GET / C-MOVE).' }) queryRetrieve!: boolean;
  @ApiProperty({ type: String, nullable: true, example: 'PACSLINK_Q' }) queryAeTitle!: string | null;
  @ApiProperty({ enum: RetrieveMethods }) retrieveMethod!: RetrieveMethod;
  @ApiProperty({ example: 'PACSLINK' }) moveDestinationAeTitle!: string;
  @ApiProperty() mwl!: boolean;
  @ApiProperty({ enum: SpecificCharacterSets, example: 'ISO_IR 192' }) mwlEncoding!: string;
  @ApiProperty() mpps!: boolean;
  @ApiProperty({ example: 1 }) maxAssociations!: number;
}

export type PacsConfigResponse = DicomwebPacsConfigResponse | DimsePacsConfigResponse;

/** A configuration's own fields (what its audit entries record): all but its circuit. */
export type PacsConfigFields =
  Omit<DicomwebPacsConfigResponse, 'circuit'> | Omit<DimsePacsConfigResponse, 'circuit'>;

export const pacsConfigResponseSchema = {
  oneOf: [
    { $ref: getSchemaPath(DicomwebPacsConfigResponse) },
    { $ref: getSchemaPath(DimsePacsConfigResponse) },
  ],
  discriminator: {
    propertyName: 'type',
    mapping: {
      dicomweb: getSchemaPath(DicomwebPacsConfigResponse),
      dimse: getSchemaPath(DimsePacsConfigResponse),
    },
  },
};

export class PacsConfigPage {
  @ApiProperty({ type: 'array', items: pacsConfigResponseSchema }) items!: PacsConfigResponse[];
  @ApiProperty({ example: 2 }) total!: number;
  @ApiProperty({ example: 50 }) limit!: number;
  @ApiProperty({ example: 0 }) offset!: number;
}
