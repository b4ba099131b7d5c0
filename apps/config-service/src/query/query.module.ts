import { Module } from '@nestjs/common';
import { EgressAuditModule } from '../egress/egress-audit.module';
import { PacsConfigsModule } from '../pacs-configs/pacs-configs.module';
import { SettingsModule } from '../settings/settings.module';
import { QueryController } from './query.controller';
import { QueryService } from './query.service';

@Module({
  imports: [PacsConfigsModule, SettingsModule, EgressAuditModule],
  controllers: [QueryController],
  providers: [QueryService],
})
export class QueryModule {}
