import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { DimseCallers } from '@pacslink/contracts';
import type { Repository } from 'typeorm';
import { PacsConfig } from '../pacs-configs/pacs-config.entity';

/** The configured DIMSE PACS whose AE titles may call the Storage SCP (contract: dimse-worker row). */
@Injectable()
export class DimseCallersService {
  constructor(@InjectRepository(PacsConfig) private readonly configs: Repository<PacsConfig>) {}

  async list(): Promise<DimseCallers> {
    const rows = await this.configs.find({ where: { type: 'dimse' }, select: { id: true, aeTitle: true } });
    return { callers: rows.map((row) => ({ pacsConfigId: row.id, aeTitle: row.aeTitle })) };
  }
}
