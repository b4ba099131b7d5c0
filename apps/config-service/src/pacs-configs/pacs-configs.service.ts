import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import { PacsConfigEvents } from '@pacslink/contracts';
import { Outbox, OutboxRelay } from '@pacslink/messaging';
import { AuditLog } from '../audit/audit-log';
import type { Actor } from '../auth/actor';
import type { Page } from '../http/dto/page.dto';
import { SecretCipher } from '@pacslink/secrets';
import type { CreatePacsConfigDto } from './dto/create-pacs-config.dto';
import type { ListPacsConfigsQuery } from './dto/list-pacs-configs.query';
import type { PacsConfigResponse } from './dto/pacs-config.response';
import type { PatchPacsConfigDto } from './dto/patch-pacs-config.dto';
import { PacsConfig } from './pacs-config.entity';
import {
  etagOf,
  ifMatchAllows,
  newPacsConfig,
  patchedPacsConfig,
  toEventData,
  toPacsConfigFields,
  toPacsConfigResponse,
} from './pacs-config.mapper';
import { PacsConfigError, PacsConfigErrorCode } from './pacs-configs.errors';
import { offeringFilter } from './protocols/pacs-protocols';
import { SettingsService } from '../settings/settings.service';
import { CLOSED_VIEW, PacsCircuitsRepository } from '../transfers/pacs-circuits.repository';

const UNIQUE_VIOLATION = '23505';
const AE_TITLE_INDEX = 'pacs_config_ae_title_key';
const ENTITY_TYPE = 'pacs-config';

/** A configuration as answered, with its entity tag. */
export interface TaggedPacsConfig {
  config: PacsConfigResponse;
  etag: string;
}

/**
 * PACS configurations. Every change commits in one transaction with its audit entry and its
 * pacs-config.* event (outbox); secrets are encrypted before they reach a query.
 */
@Injectable()
export class PacsConfigsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: SecretCipher,
    private readonly audit: AuditLog,
    private readonly outbox: Outbox,
    private readonly relay: OutboxRelay,
    private readonly settings: SettingsService,
    private readonly circuits: PacsCircuitsRepository,
  ) {}

  async list(query: ListPacsConfigsQuery): Promise<Page<PacsConfigResponse>> {
    const page = { limit: query.limit, offset: query.offset };
    // The contract: no PACS is offered for import or export while transfers are off.
    if (
      (query.capability === 'import' || query.capability === 'export') &&
      !(await this.settings.current()).allowTransfer
    ) {
      return { items: [], total: 0, ...page };
    }
    const [rows, total] = await this.dataSource.getRepository(PacsConfig).findAndCount({
      where: query.capability ? offeringFilter(query.capability) : {},
      order: { name: 'ASC', createdAt: 'ASC', id: 'ASC' },
      take: query.limit,
      skip: query.offset,
    });
    const circuits = await this.circuits.views(rows.map((row) => row.id));
    return {
      items: rows.map((row) => toPacsConfigResponse(row, circuits.get(row.id) ?? CLOSED_VIEW)),
      total,
      ...page,
    };
  }

  async get(id: string): Promise<TaggedPacsConfig> {
    const row = await this.dataSource.getRepository(PacsConfig).findOneBy({ id });
    if (!row) throw notFound(id);
    return this.tagged(row);
  }

  /** The stored row, secrets still sealed (for the connection test, which sends them sealed). */
  async stored(id: string): Promise<PacsConfig> {
    const row = await this.dataSource.getRepository(PacsConfig).findOneBy({ id });
    if (!row) throw notFound(id);
    return row;
  }

  /**
   * The stored row read in the caller's transaction (for features that act on it, e.g. transfers
   * under their PACS lock), secrets still sealed; null when there is none.
   */
  findIn(manager: EntityManager, id: string): Promise<PacsConfig | null> {
    return manager.findOneBy(PacsConfig, { id });
  }

  /**
   * A configuration that is not saved and never will be (a connection test of unsaved input): its
   * secret is sealed to a fresh random id and to its destination, which travel with it so the
   * worker can unseal it for that destination only.
   */
  unsaved(dto: CreatePacsConfigDto): PacsConfig {
    return newPacsConfig(randomUUID(), dto, new Date(), this.cipher);
  }

  /** The type a configuration was created with (which never changes): it selects the PATCH rules. */
  async typeOf(id: string): Promise<PacsConfig['type']> {
    const row = await this.dataSource
      .getRepository(PacsConfig)
      .findOne({ where: { id }, select: { id: true, type: true } });
    if (!row) throw notFound(id);
    return row.type;
  }

  async create(dto: CreatePacsConfigDto, actor: Actor): Promise<TaggedPacsConfig> {
    const id = randomUUID();
    const row = newPacsConfig(id, dto, new Date(), this.cipher);
    await this.change(dto.aeTitle, async (manager) => {
      await manager.insert(PacsConfig, row);
      await this.audit.record(manager, actor, {
        action: 'pacs-config.created',
        entityType: ENTITY_TYPE,
        entityId: id,
        change: { input: dto, after: toPacsConfigFields(row) },
      });
      await this.outbox.enqueue(manager, PacsConfigEvents.Created, toEventData(row));
    });
    return this.tagged(row);
  }

  async update(
    id: string,
    patch: PatchPacsConfigDto,
    ifMatch: string | undefined,
    actor: Actor,
  ): Promise<TaggedPacsConfig> {
    const updated = await this.change(patch.aeTitle, async (manager) => {
      const current = await this.lockedOrFail(manager, id, ifMatch);
      const next = patchedPacsConfig(current, patch, new Date(), this.cipher);
      await manager.update(PacsConfig, { id }, next);
      await this.audit.record(manager, actor, {
        action: 'pacs-config.updated',
        entityType: ENTITY_TYPE,
        entityId: id,
        change: { input: patch, before: toPacsConfigFields(current), after: toPacsConfigFields(next) },
      });
      await this.outbox.enqueue(manager, PacsConfigEvents.Updated, toEventData(next));
      const changed = Object.entries(patch).filter(([, value]) => value !== undefined);
      if (changed.some(([field]) => field !== 'name')) await this.closeCircuit(manager, id, actor);
      return next;
    });
    return this.tagged(updated);
  }

  async remove(id: string, ifMatch: string | undefined, actor: Actor): Promise<void> {
    await this.change(undefined, async (manager) => {
      const current = await this.lockedOrFail(manager, id, ifMatch);
      await manager.delete(PacsConfig, { id });
      await this.audit.record(manager, actor, {
        action: 'pacs-config.deleted',
        entityType: ENTITY_TYPE,
        entityId: id,
        change: { before: toPacsConfigFields(current) },
      });
      await this.outbox.enqueue(manager, PacsConfigEvents.Deleted, toEventData(current));
    });
  }

  /**
   * A changed configuration (anything but its name) is tried again at once: a fixed address or
   * port must not wait out the circuit the old one opened.
   */
  private async closeCircuit(manager: EntityManager, id: string, actor: Actor): Promise<void> {
    if ((await this.circuits.close(manager, id)) === 'closed') return;
    await this.audit.record(manager, actor, {
      action: 'pacs-config.circuit-closed',
      entityType: ENTITY_TYPE,
      entityId: id,
      change: { reason: 'the configuration changed' },
    });
  }

  private async tagged(row: PacsConfig): Promise<TaggedPacsConfig> {
    const circuit = (await this.circuits.views([row.id])).get(row.id) ?? CLOSED_VIEW;
    return { config: toPacsConfigResponse(row, circuit), etag: etagOf(row) };
  }

  /** Runs a change in a transaction, then wakes the outbox relay; a taken AE title becomes a 409. */
  private async change<T>(
    aeTitle: string | undefined,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    let result: T;
    try {
      result = await this.dataSource.transaction(work);
    } catch (error) {
      if (aeTitle !== undefined && isAeTitleClash(error)) throw await this.aeTitleTaken(aeTitle);
      throw error;
    }
    this.relay.wake();
    return result;
  }

  /** The row, locked until the transaction ends, after checking the caller's If-Match against it. */
  private async lockedOrFail(
    manager: EntityManager,
    id: string,
    ifMatch: string | undefined,
  ): Promise<PacsConfig> {
    const current = await manager.findOne(PacsConfig, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!current) throw notFound(id);
    if (!ifMatchAllows(ifMatch, current)) {
      throw new PacsConfigError(
        PacsConfigErrorCode.Stale,
        `If-Match ${ifMatch} does not match the configuration's current ETag ${etagOf(current)}: it changed since you read it; GET it again and reapply your change`,
      );
    }
    return current;
  }

  private async aeTitleTaken(aeTitle: string): Promise<PacsConfigError> {
    const holders: { id: string; ae_title: string }[] = await this.dataSource.query(
      'SELECT id, ae_title FROM pacs_config WHERE lower(ae_title) = lower($1)',
      [aeTitle],
    );
    const holder = holders[0];
    const by = holder ? ` by PACS configuration ${holder.id} ("${holder.ae_title}")` : '';
    return new PacsConfigError(
      PacsConfigErrorCode.AeTitleTaken,
      `aeTitle "${aeTitle}" is already used${by}; AE titles are unique across all configurations, compared case-insensitively`,
      'aeTitle',
    );
  }
}

function notFound(id: string): PacsConfigError {
  return new PacsConfigError(PacsConfigErrorCode.NotFound, `no PACS configuration has id ${id}`);
}

function isAeTitleClash(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = error.driverError as { code?: string; constraint?: string };
  return driverError.code === UNIQUE_VIOLATION && driverError.constraint === AE_TITLE_INDEX;
}
