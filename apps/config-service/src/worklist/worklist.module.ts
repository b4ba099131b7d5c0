import { Module } from '@nestjs/common';
import { EgressAuditModule } from '../egress/egress-audit.module';
import { PacsConfigsModule } from '../pacs-configs/pacs-configs.module';
import { SettingsModule } from '../settings/settings.module';
import { WorklistController } from './worklist.controller';
import { WorklistService } from './worklist.service';

@Module({
  imports: [PacsConfigsModule, SettingsModule, EgressAuditModule],
  controllers: [WorklistController],
  providers: [WorklistService],
})
export class WorklistModule {}
