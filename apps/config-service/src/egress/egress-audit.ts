import { Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { EGRESS_REFUSED } from '@pacslink/egress';
import { AuditLog } from '../audit/audit-log';
import type { Actor } from '../auth/actor';
import { PacsConfig } from '../pacs-configs/pacs-config.entity';
import { protocolOf } from '../pacs-configs/protocols/pacs-protocols';

/** Where a configuration's connections go (host and port, or URLs), never with a secret. */
function destinationOf(row: PacsConfig): Record<string, unknown> {
  return protocolOf(row.type).destination(row);
}

/** Whether a worker's error code says the egress policy refused the destination. */
export function isEgressRefusal(code: string | undefined): boolean {
  return code === EGRESS_REFUSED;
}

/** What the caller was doing when the destination was refused. */
export type EgressActivity = 'connection-test' | 'query' | 'transfer';

/**
 * The audit of what the egress policy touches: every refused destination (`egress.refused`: who,
 * which configuration, where, during what, the worker's sentence) and every connection test of an
 * unsaved configuration (`pacs-config.tested`: who, where, the outcome), none with a secret.
 */
@Injectable()
export class EgressAudit {
  private readonly logger = new Logger('Egress');

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  async refused(
    actor: Pick<Actor, 'id' | 'name'>,
    refusal: {
      activity: EgressActivity;
      row: PacsConfig;
      detail: string;
      saved: boolean;
      transferId?: string;
    },
    manager: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    const { activity, row, detail, saved, transferId } = refusal;
    const destination = destinationOf(row);
    this.logger.warn({
      msg: 'egress refused',
      activity,
      actor: actor.id,
      pacsConfigId: saved ? row.id : undefined,
      type: row.type,
      destination,
      detail,
    });
    await this.audit.record(manager, actor, {
      action: 'egress.refused',
      entityType: 'pacs-config',
      ...(saved ? { entityId: row.id } : {}),
      change: {
        activity,
        type: row.type,
        aeTitle: row.aeTitle,
        destination,
        detail,
        ...(transferId === undefined ? {} : { transferId }),
      },
    });
  }

  /**
   * An export batch the policy stopped (a permanent failure: its transfer fails), on record in the
   * name of who asked for the transfer, in the caller's transaction.
   */
  async transferRefused(
    manager: EntityManager,
    transfer: { id: string; createdBy: string },
    pacsConfigId: string,
    detail: string,
  ): Promise<void> {
    const row = await manager.getRepository(PacsConfig).findOneByOrFail({ id: pacsConfigId });
    await this.refused(
      { id: transfer.createdBy },
      { activity: 'transfer', row, detail, saved: true, transferId: transfer.id },
      manager,
    );
  }

  /** A connection test of a configuration that is not saved: the port scan it could be, on record. */
  async unsavedTested(
    actor: Pick<Actor, 'id' | 'name'>,
    row: PacsConfig,
    outcome: { ok: boolean; detail?: string; code?: string } | { error: string },
  ): Promise<void> {
    await this.audit.record(this.dataSource.manager, actor, {
      action: 'pacs-config.tested',
      entityType: 'pacs-config',
      change: {
        saved: false,
        type: row.type,
        aeTitle: row.aeTitle,
        destination: destinationOf(row),
        outcome,
      },
    });
  }
}
