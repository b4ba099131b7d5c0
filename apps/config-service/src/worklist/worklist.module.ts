import { Module } from '@nestjs/common';
import { EgressAuditModule } from '../egress/egress-audit.module';
import { PacsConfigsModule } from '../pacs-configs/pacs-configs.module';
import { SettingsModule } from '../settings/settings.module';
import { StudyIndexModule } from '../studies/study-index.module';
import { WorklistMppsConsumer } from './worklist-mpps.consumer';
import { WorklistMppsService } from './worklist-mpps.service';
import { WorklistController } from './worklist.controller';
import { WorklistService } from './worklist.service';

@Module({
  imports: [PacsConfigsModule, SettingsModule, EgressAuditModule, StudyIndexModule],
  controllers: [WorklistController],
  providers: [WorklistService, WorklistMppsService, WorklistMppsConsumer],
})
export class WorklistModule {}
