import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQuery } from '../../http/dto/page.dto';

export const Capabilities = ['import', 'export', 'worklist'] as const;
export type Capability = (typeof Capabilities)[number];

export class ListPacsConfigsQuery extends PageQuery {
  @ApiPropertyOptional({
    enum: Capabilities,
    description:
      'Only the configurations offering it. import: DICOMweb with qidoRs, DIMSE with queryRetrieve; ' +
      'export: stowRs / cStore; worklist: DIMSE with mwl. import and export are empty while settings.allowTransfer is false.',
  })
  @IsOptional()
  @IsIn(Capabilities)
  capability?: Capability;
}
