import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { DimseCallers, StorageScpRefusedData } from '@pacslink/contracts';
import { Inbox } from '@pacslink/messaging';
import type { Repository } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import { PacsConfig } from '../pacs-configs/pacs-config.entity';

/** The Storage SCP's refusals are the system's doing, not a user's. */
const SYSTEM = { id: 'system' };

/**
 * Who may call dimse-worker's Storage SCP: the configured DIMSE PACS, by AE title (contract:
 * dimse-worker row); and the audit of the associations it refused.
 */
@Injectable()
export class DimseCallersService {
  constructor(
    @InjectRepository(PacsConfig) private readonly configs: Repository<PacsConfig>,
    private readonly inbox: Inbox,
    private readonly audit: AuditLog,
  ) {}

  async list(): Promise<DimseCallers> {
    const rows = await this.configs.find({ where: { type: 'dimse' }, select: { id: true, aeTitle: true } });
    return { callers: rows.map((row) => ({ pacsConfigId: row.id, aeTitle: row.aeTitle })) };
  }

  /** One audit entry per report, also when the report is delivered again (`messageId`). */
  async refused(refusal: StorageScpRefusedData, messageId: string): Promise<void> {
    await this.inbox.once('storage-scp.refused', messageId, (manager) =>
      this.audit.record(manager, SYSTEM, {
        action: 'storage-scp.association-refused',
        entityType: 'storage-scp',
        change: { ...refusal },
      }),
    );
  }
}
