import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import type { Actor } from '../auth/actor';
import { isDefaultCallingAeTitleReference } from '../local-ae-titles/local-ae-titles.errors';
import { LocalAeTitlesService } from '../local-ae-titles/local-ae-titles.service';
import { SETTINGS_ID, Settings } from './settings.entity';
import { notALocalAeTitle } from './settings.errors';

/** What other features read: whether transfers are allowed, and the calling AE title by default. */
export interface CurrentSettings {
  allowTransfer: boolean;
  defaultCallingAeTitle: string;
}

/** The settings before anyone changed them; the migration seeds the same row and AE title. */
export const DEFAULT_SETTINGS: Readonly<CurrentSettings> = Object.freeze({
  allowTransfer: false,
  defaultCallingAeTitle: 'PACSLINK',
});

function view(row: Settings | null): CurrentSettings {
  return row
    ? { allowTransfer: row.allowTransfer, defaultCallingAeTitle: row.defaultCallingAeTitle }
    : { ...DEFAULT_SETTINGS };
}

@Injectable()
export class SettingsService {
  constructor(
    @InjectRepository(Settings) private readonly settings: Repository<Settings>,
    private readonly localAeTitles: LocalAeTitlesService,
    private readonly audit: AuditLog,
  ) {}

  /** The settings now; pass the manager of a transaction to read them inside it. */
  async current(manager: EntityManager = this.settings.manager): Promise<CurrentSettings> {
    return view(await manager.findOneBy(Settings, { id: SETTINGS_ID }));
  }

  /**
   * Replaces the settings. `defaultCallingAeTitle` must match a local AE title case-insensitively and
   * is stored as that title is spelled. A PUT that changes nothing writes nothing and no audit entry.
   */
  async update(actor: Actor, input: CurrentSettings): Promise<CurrentSettings> {
    try {
      return await this.settings.manager.transaction(async (manager) => {
        const row = await manager
          .createQueryBuilder(Settings, 'settings')
          .setLock('pessimistic_write')
          .where('settings.id = :id', { id: SETTINGS_ID })
          .getOne();
        const before = view(row);
        const title = await this.localAeTitles.find(input.defaultCallingAeTitle, manager);
        if (!title) {
          throw notALocalAeTitle(input.defaultCallingAeTitle, await this.localAeTitles.allTitles(manager));
        }
        const after: CurrentSettings = {
          allowTransfer: input.allowTransfer,
          defaultCallingAeTitle: title.aeTitle,
        };
        const changed =
          !row ||
          before.allowTransfer !== after.allowTransfer ||
          before.defaultCallingAeTitle !== after.defaultCallingAeTitle;
        if (changed) {
          await manager.save(Settings, { id: SETTINGS_ID, ...after });
          await this.audit.record(manager, actor, {
            action: 'settings.updated',
            entityType: 'settings',
            change: { before, after },
          });
        }
        return after;
      });
    } catch (error) {
      // The title was deleted between the check and the update: the foreign key refused it.
      if (isDefaultCallingAeTitleReference(error)) {
        throw notALocalAeTitle(input.defaultCallingAeTitle, await this.localAeTitles.allTitles());
      }
      throw error;
    }
  }
}
