import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EgressAuditModule } from '../egress/egress-audit.module';
import { PacsConfigsModule } from '../pacs-configs/pacs-configs.module';
import { SettingsModule } from '../settings/settings.module';
import { StudyIndexModule } from '../studies/study-index.module';
import { HeldClaimAnswers } from './held-claim-answers';
import { ImportCommands } from './import-commands';
import { ImportPlanning } from './import-planning';
import { ImportReports } from './import-reports';
import { ImportedFiles } from './imported-files';
import { ImportsRepository } from './imports.repository';
import { PacsCircuitBreaker } from './pacs-circuit-breaker';
import { PacsCircuitsModule } from './pacs-circuits.module';
import { TransferBatch } from './transfer-batch.entity';
import { TransferDispatcher } from './transfer-dispatcher';
import { TransferInstance } from './transfer-instance.entity';
import { TransferLedger } from './transfer-ledger';
import { TransferMetrics } from './transfer.metrics';
import { TRANSFER_OPTIONS, type TransferOptions } from './transfer-options';
import { TransferReportsConsumer } from './transfer-reports.consumer';
import { TransferReportsService } from './transfer-reports.service';
import { Transfer } from './transfer.entity';
import { TransfersController } from './transfers.controller';
import { TransfersRepository } from './transfers.repository';
import { TransfersService } from './transfers.service';

@Module({})
export class TransfersModule {
  static forRoot(options: TransferOptions): DynamicModule {
    return {
      module: TransfersModule,
      imports: [
        TypeOrmModule.forFeature([Transfer, TransferBatch, TransferInstance]),
        SettingsModule,
        StudyIndexModule,
        PacsConfigsModule,
        EgressAuditModule,
        PacsCircuitsModule,
      ],
      controllers: [TransfersController],
      providers: [
        { provide: TRANSFER_OPTIONS, useValue: options },
        TransfersRepository,
        ImportsRepository,
        ImportCommands,
        ImportPlanning,
        ImportedFiles,
        ImportReports,
        TransferLedger,
        PacsCircuitBreaker,
        HeldClaimAnswers,
        TransferDispatcher,
        TransfersService,
        TransferReportsService,
        TransferReportsConsumer,
        TransferMetrics,
      ],
    };
  }
}
