import { ApiPropertyOptional } from '@nestjs/swagger';
import { Equals, IsOptional } from 'class-validator';
import type { RetrieveMethod } from '../pacs-config.entity';
import { AuthField, type AuthPatchDto } from './auth.dto';
import { Field, refusals } from './pacs-config-fields';
import { refuseFields } from './pacs-config.validators';

/*
 * A PATCH changes the fields it names and leaves the others as they are. `type` may be repeated
 * but not changed (409). Optional AE titles are cleared with null; other fields refuse null.
 */

export class PatchDicomwebPacsConfigDto {
  @ApiPropertyOptional({
    enum: ['dicomweb'],
    description: 'Fixed at creation: another value is refused (409).',
  })
  @IsOptional()
  @Equals('dicomweb')
  type?: 'dicomweb';

  @Field.aeTitle('omittable', 'The PACS AE title.', 'ORTHANC') aeTitle?: string;
  @Field.name('omittable') name?: string;
  @Field.url('omittable') url?: string;
  @Field.boolean('omittable', 'Offers import (QIDO-RS / WADO-RS).') qidoRs?: boolean;
  @Field.boolean('omittable', 'Offers export (STOW-RS).') stowRs?: boolean;
  @Field.boolean('omittable', 'STOW-RS as multipart/related.') stowMultipartRelated?: boolean;
  @Field.aeTitle('clearable', 'Sent as the VidarSourceAET header; null clears it.', 'PACSLINK')
  sourceAeTitle?: string | null;
  @AuthField('omittable', 'patch') auth?: AuthPatchDto;
  @Field.timeoutMs('omittable') timeoutMs?: number;
}
refuseFields(PatchDicomwebPacsConfigDto, refusals('dicomweb'));

export class PatchDimsePacsConfigDto {
  @ApiPropertyOptional({ enum: ['dimse'], description: 'Fixed at creation: another value is refused (409).' })
  @IsOptional()
  @Equals('dimse')
  type?: 'dimse';

  @Field.aeTitle('omittable', 'The called AE title of the PACS.', 'ORTHANC') aeTitle?: string;
  @Field.name('omittable') name?: string;
  @Field.host('omittable') host?: string;
  @Field.port('omittable') port?: number;
  @Field.boolean('omittable', 'Offers export (C-STORE).') cStore?: boolean;
  @Field.boolean('omittable', 'Offers import (C-FIND, C-GET / C-MOVE).') queryRetrieve?: boolean;
  @Field.aeTitle('clearable', 'The calling AE title for queries and retrieves; null clears it.', 'PACSLINK_Q')
  queryAeTitle?: string | null;
  @Field.retrieveMethod('omittable') retrieveMethod?: RetrieveMethod;
  @Field.aeTitle('omittable', 'The C-MOVE destination AE title.', 'PACSLINK') moveDestinationAeTitle?: string;
  @Field.boolean('omittable', 'Offers a Modality Worklist.') mwl?: boolean;
  @Field.mwlEncoding('omittable') mwlEncoding?: string;
  @Field.boolean('omittable', 'Accepts MPPS.') mpps?: boolean;
  @Field.timeoutMs('omittable') timeoutMs?: number;
  @Field.maxAssociations('omittable') maxAssociations?: number;
}
refuseFields(PatchDimsePacsConfigDto, refusals('dimse'));

export type PatchPacsConfigDto = PatchDicomwebPacsConfigDto | PatchDimsePacsConfigDto;
