import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PacsConfig } from './pacs-config.entity';
import { PacsConfigsController } from './pacs-configs.controller';
import { PacsConfigsService } from './pacs-configs.service';
import { SettingsModule } from '../settings/settings.module';
import { PacsCircuitsModule } from '../transfers/pacs-circuits.module';

@Module({
  imports: [TypeOrmModule.forFeature([PacsConfig]), SettingsModule, PacsCircuitsModule],
  controllers: [PacsConfigsController],
  providers: [PacsConfigsService],
  exports: [PacsConfigsService],
})
export class PacsConfigsModule {}
