import { ApiProperty } from '@nestjs/swagger';
import type { CurrentSettings } from '../settings.service';

export class SettingsResponse {
  @ApiProperty({
    example: false,
    description: 'while false, no PACS is offered for import or export and new transfers are refused',
  })
  allowTransfer!: boolean;

  @ApiProperty({ example: 'PACSLINK', description: 'one of the local AE titles' })
  defaultCallingAeTitle!: string;

  static from(settings: CurrentSettings): SettingsResponse {
    return { allowTransfer: settings.allowTransfer, defaultCallingAeTitle: settings.defaultCallingAeTitle };
  }
}
