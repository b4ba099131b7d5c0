import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../auth/actor';
import { AuditEntry } from './audit-entry.entity';
import { maskSecrets } from './mask-secrets';

export interface AuditRecord {
  action: string;
  entityType: string;
  entityId?: string;
  change: Record<string, unknown>;
}

/** Writes audit entries in the caller's transaction: no change without its entry, and no entry without the change. */
@Injectable()
export class AuditLog {
  async record(
    manager: EntityManager,
    actor: Pick<Actor, 'id' | 'name'>,
    record: AuditRecord,
  ): Promise<void> {
    const entry = manager.create(AuditEntry, {
      actor: actor.id,
      actorName: actor.name ?? null,
      action: record.action,
      entityType: record.entityType,
      entityId: record.entityId ?? null,
      change: maskSecrets(record.change) as Record<string, unknown>,
    });
    await manager.save(entry);
  }
}
