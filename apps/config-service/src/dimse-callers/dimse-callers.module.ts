import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PacsConfig } from '../pacs-configs/pacs-config.entity';
import { DimseCallersConsumer } from './dimse-callers.consumer';
import { DimseCallersService } from './dimse-callers.service';

@Module({
  imports: [TypeOrmModule.forFeature([PacsConfig])],
  providers: [DimseCallersService, DimseCallersConsumer],
})
export class DimseCallersModule {}
