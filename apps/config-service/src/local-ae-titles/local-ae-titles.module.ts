import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LocalAeTitle } from './local-ae-title.entity';
import { LocalAeTitlesController } from './local-ae-titles.controller';
import { LocalAeTitlesService } from './local-ae-titles.service';

@Module({
  imports: [TypeOrmModule.forFeature([LocalAeTitle])],
  controllers: [LocalAeTitlesController],
  providers: [LocalAeTitlesService],
  exports: [LocalAeTitlesService],
})
export class LocalAeTitlesModule {}
