import { Module } from '@nestjs/common';
import { PacsConfigsModule } from '../pacs-configs/pacs-configs.module';
import { SettingsModule } from '../settings/settings.module';
import { QueryController } from './query.controller';
import { QueryService } from './query.service';

@Module({
  imports: [PacsConfigsModule, SettingsModule],
  controllers: [QueryController],
  providers: [QueryService],
})
export class QueryModule {}
