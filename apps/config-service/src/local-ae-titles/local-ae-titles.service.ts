import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { aeTitleProblem, normalizeAeTitle } from '@pacslink/dicom';
import { AuditLog } from '../audit/audit-log';
import type { Actor } from '../auth/actor';
import type { Page } from '../http/dto/page.dto';
import { LocalAeTitle } from './local-ae-title.entity';
import {
  isDefaultCallingAeTitleReference,
  isUniqueViolation,
  localAeTitleExists,
  localAeTitleIsDefault,
  localAeTitleNotFound,
} from './local-ae-titles.errors';

export interface NewLocalAeTitle {
  /** Already trimmed and validated (the request DTO). */
  aeTitle: string;
  description?: string | null;
}

const ENTITY_TYPE = 'local-ae-title';

// Listed by title, case-insensitively, in ASCII order: COLLATE "C" keeps the order the same
// whatever the database's locale (AE titles are ASCII).
const ORDER_CASE_INSENSITIVE = 'lower(title.ae_title) COLLATE "C"';
const ORDER_EXACT = 'title.ae_title COLLATE "C"';

function audited(title: LocalAeTitle): Record<string, unknown> {
  return { aeTitle: title.aeTitle, description: title.description };
}

/** The AE titles the application may call a PACS by. */
@Injectable()
export class LocalAeTitlesService {
  constructor(
    @InjectRepository(LocalAeTitle) private readonly titles: Repository<LocalAeTitle>,
    private readonly audit: AuditLog,
  ) {}

  async list(page: { limit: number; offset: number }): Promise<Page<LocalAeTitle>> {
    const [items, total] = await this.titles
      .createQueryBuilder('title')
      .orderBy(ORDER_CASE_INSENSITIVE, 'ASC')
      .addOrderBy(ORDER_EXACT, 'ASC')
      .limit(page.limit)
      .offset(page.offset)
      .getManyAndCount();
    return { items, total, limit: page.limit, offset: page.offset };
  }

  /** 409 when a title equal to it, compared case-insensitively, exists (also when two POSTs race). */
  async create(actor: Actor, input: NewLocalAeTitle): Promise<LocalAeTitle> {
    try {
      return await this.titles.manager.transaction(async (manager) => {
        const existing = await this.find(input.aeTitle, manager);
        if (existing) throw localAeTitleExists(input.aeTitle, existing.aeTitle);
        const title = manager.create(LocalAeTitle, {
          aeTitle: input.aeTitle,
          description: input.description ?? null,
        });
        // insert() fills createdAt from the row's default (INSERT … RETURNING).
        await manager.insert(LocalAeTitle, title);
        await this.audit.record(manager, actor, {
          action: 'local-ae-title.created',
          entityType: ENTITY_TYPE,
          entityId: title.aeTitle,
          change: { after: audited(title) },
        });
        return title;
      });
    } catch (error) {
      // The unique index on lower(ae_title) decided between two simultaneous inserts.
      if (isUniqueViolation(error)) {
        throw localAeTitleExists(input.aeTitle, (await this.find(input.aeTitle))?.aeTitle);
      }
      throw error;
    }
  }

  /**
   * Deletes the title equal to `aeTitle`, compared case-insensitively: 404 when there is none, 409
   * while it is the default calling AE title (the settings' foreign key decides, so a concurrent
   * PUT /settings cannot slip in between a check and the delete).
   */
  async remove(actor: Actor, aeTitle: string): Promise<void> {
    try {
      await this.titles.manager.transaction(async (manager) => {
        const found = await this.find(aeTitle, manager, { lock: true });
        if (!found) throw localAeTitleNotFound(aeTitle);
        await manager.delete(LocalAeTitle, { aeTitle: found.aeTitle });
        await this.audit.record(manager, actor, {
          action: 'local-ae-title.deleted',
          entityType: ENTITY_TYPE,
          entityId: found.aeTitle,
          change: { before: audited(found) },
        });
      });
    } catch (error) {
      if (isDefaultCallingAeTitleReference(error)) {
        throw localAeTitleIsDefault((await this.find(aeTitle))?.aeTitle ?? normalizeAeTitle(aeTitle));
      }
      throw error;
    }
  }

  /** Whether `aeTitle` (trimmed) is one of the local AE titles, compared case-insensitively. */
  async exists(aeTitle: string, manager?: EntityManager): Promise<boolean> {
    return (await this.find(aeTitle, manager)) !== null;
  }

  /**
   * The local AE title equal to `aeTitle` (trimmed, compared case-insensitively) as it is stored, or
   * null. A string that is not a valid AE title matches nothing and never reaches the database.
   */
  async find(
    aeTitle: string,
    manager: EntityManager = this.titles.manager,
    options: { lock?: boolean } = {},
  ): Promise<LocalAeTitle | null> {
    if (aeTitleProblem(aeTitle) !== undefined) return null;
    const query = manager
      .createQueryBuilder(LocalAeTitle, 'title')
      .where('lower(title.ae_title) = lower(:aeTitle)', { aeTitle: normalizeAeTitle(aeTitle) });
    if (options.lock) query.setLock('pessimistic_write');
    return query.getOne();
  }

  /** Every local AE title, in the order the list shows them. */
  async allTitles(manager: EntityManager = this.titles.manager): Promise<string[]> {
    const rows = await manager
      .createQueryBuilder(LocalAeTitle, 'title')
      .select('title.ae_title', 'aeTitle')
      .orderBy(ORDER_CASE_INSENSITIVE, 'ASC')
      .addOrderBy(ORDER_EXACT, 'ASC')
      .getRawMany<{ aeTitle: string }>();
    return rows.map((row) => row.aeTitle);
  }
}
