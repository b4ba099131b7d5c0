import { ApiProperty } from '@nestjs/swagger';
import { Equals, IsIn } from 'class-validator';
import { PacsConfigTypes, type PacsConfigType } from '@pacslink/contracts';
import type { RetrieveMethod } from '../pacs-config.entity';
import { AuthField, NoAuthDto, type AuthDto } from './auth.dto';
import {
  DEFAULT_MAX_ASSOCIATIONS,
  DEFAULT_MOVE_DESTINATION_AE_TITLE,
  DEFAULT_MWL_ENCODING,
  DEFAULT_RETRIEVE_METHOD,
  DEFAULT_TIMEOUT_MS,
  Field,
  refusals,
} from './pacs-config-fields';
import { refuseFields } from './pacs-config.validators';

/** Only `type`: read first, it says which class validates the rest of the body. */
export class PacsConfigTypeDto {
  @IsIn(PacsConfigTypes, { message: `type must be one of: ${PacsConfigTypes.join(', ')}` })
  type!: PacsConfigType;
}

export class CreateDicomwebPacsConfigDto {
  @ApiProperty({ enum: ['dicomweb'], example: 'dicomweb', description: 'Fixed at creation.' })
  @Equals('dicomweb')
  type!: 'dicomweb';

  @Field.aeTitle(
    'required',
    'The PACS AE title, sent as the VidarPacsAET header; unique among all configurations (case-insensitive).',
    'ORTHANC',
  )
  aeTitle!: string;

  @Field.name('required') name!: string;

  @Field.url('required') url!: string;

  @Field.boolean(
    'defaulted',
    'Offers import: studies are found with QIDO-RS and fetched with WADO-RS.',
    false,
  )
  qidoRs = false;

  @Field.boolean('defaulted', 'Offers export: studies are sent with STOW-RS.', false)
  stowRs = false;

  @Field.boolean(
    'defaulted',
    'STOW-RS as multipart/related (true) or each instance as a single application/dicom body (false).',
    true,
  )
  stowMultipartRelated = true;

  @Field.aeTitle('clearable', 'Sent as the VidarSourceAET header.', 'PACSLINK')
  sourceAeTitle?: string | null;

  @AuthField('defaulted', 'create')
  auth: AuthDto = Object.assign(new NoAuthDto(), { method: 'none' as const });

  @Field.timeoutMs('defaulted') timeoutMs = DEFAULT_TIMEOUT_MS;
}
refuseFields(CreateDicomwebPacsConfigDto, refusals('dicomweb'));

export class CreateDimsePacsConfigDto {
  @ApiProperty({ enum: ['dimse'], example: 'dimse', description: 'Fixed at creation.' })
  @Equals('dimse')
  type!: 'dimse';

  @Field.aeTitle(
    'required',
    'The called AE title of the PACS; unique among all configurations (case-insensitive).',
    'ORTHANC',
  )
  aeTitle!: string;

  @Field.name('required') name!: string;

  @Field.host('required') host!: string;

  @Field.port('required') port!: number;

  @Field.boolean('defaulted', 'Offers export: studies are sent with C-STORE.', false)
  cStore = false;

  @Field.boolean(
    'defaulted',
    'Offers import: studies are found with C-FIND and fetched with C-GET / C-MOVE.',
    false,
  )
  queryRetrieve = false;

  @Field.aeTitle(
    'clearable',
    'The calling AE title for queries and retrieves (default: the default calling AE title).',
    'PACSLINK_Q',
  )
  queryAeTitle?: string | null;

  @Field.retrieveMethod('defaulted') retrieveMethod: RetrieveMethod = DEFAULT_RETRIEVE_METHOD;

  @Field.aeTitle(
    'defaulted',
    'Where C-MOVE sends the study: our Storage SCP, known to the PACS under this AE title. Default SCP_AE_TITLE (PACSLINK).',
    'PACSLINK',
  )
  moveDestinationAeTitle = DEFAULT_MOVE_DESTINATION_AE_TITLE;

  @Field.boolean('defaulted', 'Offers a Modality Worklist (C-FIND on the MWL model).', false)
  mwl = false;

  @Field.mwlEncoding('defaulted') mwlEncoding: string = DEFAULT_MWL_ENCODING;

  @Field.boolean('defaulted', 'Accepts MPPS (N-CREATE / N-SET) for worklist tasks.', false)
  mpps = false;

  @Field.timeoutMs('defaulted') timeoutMs = DEFAULT_TIMEOUT_MS;

  @Field.maxAssociations('defaulted') maxAssociations = DEFAULT_MAX_ASSOCIATIONS;
}
refuseFields(CreateDimsePacsConfigDto, refusals('dimse'));

export type CreatePacsConfigDto = CreateDicomwebPacsConfigDto | CreateDimsePacsConfigDto;
