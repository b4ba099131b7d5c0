import { Module } from '@nestjs/common';
import { EgressAuditModule } from '../egress/egress-audit.module';
import { LocalAeTitlesModule } from '../local-ae-titles/local-ae-titles.module';
import { PacsConfigsModule } from '../pacs-configs/pacs-configs.module';
import { SettingsModule } from '../settings/settings.module';
import { ConnectionTestController } from './connection-test.controller';
import { ConnectionTestService } from './connection-test.service';

@Module({
  imports: [PacsConfigsModule, LocalAeTitlesModule, SettingsModule, EgressAuditModule],
  controllers: [ConnectionTestController],
  providers: [ConnectionTestService],
})
export class ConnectionTestModule {}
