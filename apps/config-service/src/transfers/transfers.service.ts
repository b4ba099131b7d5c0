import { createHash, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import { TransferEvents, type TransferDirection } from '@pacslink/contracts';
import { OutboxRelay } from '@pacslink/messaging';
import { AuditLog } from '../audit/audit-log';
import type { Actor } from '../auth/actor';
import type { Page } from '../http/dto/page.dto';
import type { PacsConfig } from '../pacs-configs/pacs-config.entity';
import { PacsConfigsService } from '../pacs-configs/pacs-configs.service';
import { capabilitySwitchOf, protocolOf } from '../pacs-configs/protocols/pacs-protocols';
import { SettingsService } from '../settings/settings.service';
import { StudyIndexService } from '../studies/study-index.service';
import { planBatches } from './batch-plan';
import type { CreateTransferRequest } from './dto/create-transfer.request';
import type { ListTransferInstancesQuery, ListTransfersQuery } from './dto/list-transfers.query';
import type { TransferInstanceResponse, TransferResponse } from './dto/transfer.response';
import { ImportPlanning } from './import-planning';
import { ImportsRepository } from './imports.repository';
import { newTransfer } from './new-transfer';
import { TransferDispatcher, directionProblem } from './transfer-dispatcher';
import { TransferLedger } from './transfer-ledger';
import { toTransferInstanceResponse, toTransferResponse } from './transfer.mapper';
import { Transfer } from './transfer.entity';
import { isActive } from './transfer-transitions';
import { TransferError, TransferErrorCode } from './transfers.errors';
import { TransfersRepository, type InstanceToSend } from './transfers.repository';

const UNIQUE_VIOLATION = '23505';

/** The transfers use cases behind the REST API (contract "Transfers"). */
@Injectable()
export class TransfersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: SettingsService,
    private readonly dispatcher: TransferDispatcher,
    private readonly ledger: TransferLedger,
    private readonly audit: AuditLog,
    private readonly relay: OutboxRelay,
    private readonly studies: StudyIndexService,
    private readonly transfers: TransfersRepository,
    private readonly pacsConfigs: PacsConfigsService,
    private readonly imports: ImportsRepository,
    private readonly planning: ImportPlanning,
  ) {}

  /**
   * Queues an export of a stored study (or one series) to a PACS: the instances are listed from the
   * store's index (their files are looked up again at each dispatch), cut into batches, and the first batches dispatched, all in one transaction with
   * the transfer.queued event and the audit entry. The same Idempotency-Key (per API key) answers
   * the transfer it first made.
   */
  async create(
    request: CreateTransferRequest,
    idempotencyKey: string | undefined,
    actor: Actor,
  ): Promise<TransferResponse> {
    const fingerprint = fingerprintOf(request);
    if (idempotencyKey !== undefined) {
      const earlier = await this.byIdempotencyKey(actor, idempotencyKey, fingerprint);
      if (earlier) return earlier;
    }
    try {
      const created = await this.dataSource.transaction((manager) =>
        request.direction === 'import'
          ? this.createImport(manager, request, idempotencyKey, fingerprint, actor)
          : this.createExport(manager, request, idempotencyKey, fingerprint, actor),
      );
      this.relay.wake();
      return toTransferResponse(created);
    } catch (error) {
      const racedOnKey =
        idempotencyKey !== undefined &&
        error instanceof QueryFailedError &&
        (error.driverError as { code?: string }).code === UNIQUE_VIOLATION;
      if (!racedOnKey) throw error;
      const earlier = await this.byIdempotencyKey(actor, idempotencyKey, fingerprint);
      if (!earlier) throw error;
      return earlier;
    }
  }

  private async createExport(
    manager: EntityManager,
    request: CreateTransferRequest,
    idempotencyKey: string | undefined,
    fingerprint: string,
    actor: Actor,
  ): Promise<Transfer> {
    await this.transfers.lockPacs(manager, request.pacsConfigId);
    const config = await this.transferTarget(manager, request.pacsConfigId, 'export');
    // Locked FOR SHARE: a concurrent delete or move of these instances waits, then sees the transfer.
    const instances = await this.studies.instancesOf(
      manager,
      request.studyInstanceUid,
      request.seriesInstanceUid,
    );
    if (instances.length === 0) {
      const what = request.seriesInstanceUid
        ? `series ${request.seriesInstanceUid} of study ${request.studyInstanceUid}`
        : `study ${request.studyInstanceUid}`;
      throw new TransferError(
        TransferErrorCode.StudyNotStored,
        `the study store holds no instance of ${what}; upload it first (POST /api/v1/studies)`,
        request.seriesInstanceUid ? 'seriesInstanceUid' : 'studyInstanceUid',
      );
    }
    const transfer = newTransfer(request, config, {
      method: protocolOf(config.type).exportMethod,
      total: instances.length,
      actor,
      idempotencyKey,
      fingerprint,
    });
    await this.transfers.insertTransfer(manager, transfer);
    const batchIds = await this.insertBatches(
      manager,
      transfer,
      instances,
      protocolOf(config.type).batchSlots(config),
      0,
    );
    await this.transfers.insertInstances(manager, transfer.id, instances, batchIds);
    return this.announceCreated(manager, transfer, request, actor);
  }

  /**
   * Queues an import of a study (or one series) from a PACS: one plan batch, in which a worker asks
   * the PACS what it holds (ADR 0008); its report makes the instances and the retrieve batches.
   */
  private async createImport(
    manager: EntityManager,
    request: CreateTransferRequest,
    idempotencyKey: string | undefined,
    fingerprint: string,
    actor: Actor,
  ): Promise<Transfer> {
    await this.transfers.lockPacs(manager, request.pacsConfigId);
    const config = await this.transferTarget(manager, request.pacsConfigId, 'import');
    const transfer = newTransfer(request, config, {
      method: protocolOf(config.type).importMethod(config),
      total: 0,
      actor,
      idempotencyKey,
      fingerprint,
    });
    await this.transfers.insertTransfer(manager, transfer);
    await this.imports.insertBatches(manager, transfer, 'plan', [randomUUID()], 0);
    return this.announceCreated(manager, transfer, request, actor);
  }

  /** transfer.queued, the audit entry and the first dispatch of a new transfer, in its transaction. */
  private async announceCreated(
    manager: EntityManager,
    transfer: Transfer,
    request: CreateTransferRequest,
    actor: Actor,
  ): Promise<Transfer> {
    await this.ledger.emit(manager, TransferEvents.Queued, transfer);
    await this.audit.record(manager, actor, {
      action: 'transfer.created',
      entityType: 'transfer',
      entityId: transfer.id,
      change: { request: { ...request }, total: transfer.total, method: transfer.method },
    });
    await this.dispatcher.dispatch(manager, transfer.pacsConfigId);
    return this.transfers.lockTransfer(manager, transfer.id);
  }

  /** Inserts the batches for `instances` (in order) and returns each instance's batch id. */
  private async insertBatches(
    manager: EntityManager,
    transfer: Transfer,
    instances: readonly InstanceToSend[],
    parallelism: number,
    firstSeq: number,
  ): Promise<string[]> {
    const plan = planBatches(
      instances.map((i) => i.sizeBytes),
      parallelism,
    );
    const ids = [...new Set(plan)].map(() => randomUUID());
    await this.transfers.insertBatches(manager, transfer, ids, firstSeq);
    return plan.map((batch) => ids[batch]);
  }

  private async transferTarget(
    manager: EntityManager,
    pacsConfigId: string,
    direction: TransferDirection,
  ): Promise<PacsConfig> {
    if (!(await this.settings.current(manager)).allowTransfer) {
      throw new TransferError(
        TransferErrorCode.TransferDisabled,
        'transfers are switched off (settings.allowTransfer is false)',
      );
    }
    const config = await this.pacsConfigs.findIn(manager, pacsConfigId);
    if (!config) {
      throw new TransferError(
        TransferErrorCode.PacsConfigNotFound,
        `no PACS configuration has id ${pacsConfigId}`,
        'pacsConfigId',
      );
    }
    if (directionProblem(config, direction) !== undefined) {
      throw new TransferError(
        TransferErrorCode.DirectionNotOffered,
        `PACS ${config.aeTitle} does not offer ${direction}: enable ${capabilitySwitchOf(config, direction)} on it`,
        'pacsConfigId',
      );
    }
    return config;
  }

  private async byIdempotencyKey(
    actor: Actor,
    key: string,
    fingerprint: string,
  ): Promise<TransferResponse | undefined> {
    const earlier = await this.transfers.findByIdempotencyKey(actor.id, key);
    if (!earlier) return undefined;
    if (earlier.requestFingerprint !== fingerprint) {
      throw new TransferError(
        TransferErrorCode.IdempotencyKeyReused,
        `Idempotency-Key "${key}" was first used for a different request (transfer ${earlier.id}); use a new key for a new transfer`,
      );
    }
    return toTransferResponse(earlier);
  }

  async get(id: string): Promise<TransferResponse> {
    return toTransferResponse(await this.found(id));
  }

  async list(query: ListTransfersQuery): Promise<Page<TransferResponse>> {
    const [rows, total] = await this.transfers.listTransfers(query);
    return { items: rows.map(toTransferResponse), total, limit: query.limit, offset: query.offset };
  }

  async instances(id: string, query: ListTransferInstancesQuery): Promise<Page<TransferInstanceResponse>> {
    await this.found(id);
    const [rows, total] = await this.transfers.listInstances(id, query);
    return { items: rows.map(toTransferInstanceResponse), total, limit: query.limit, offset: query.offset };
  }

  /** Stops a queued or running transfer; a batch a worker is sending finishes that batch. */
  async cancel(id: string, actor: Actor): Promise<TransferResponse> {
    const row = await this.inPacsTransaction(id, async (manager, transfer) => {
      if (!isActive(transfer.status)) {
        throw new TransferError(
          TransferErrorCode.NotCancellable,
          `transfer ${id} is already ${transfer.status}; only a queued or running transfer can be cancelled`,
        );
      }
      await this.ledger.cancel(manager, transfer);
      await this.audit.record(manager, actor, {
        action: 'transfer.cancelled',
        entityType: 'transfer',
        entityId: id,
        change: { before: 'active', progress: toTransferResponse(transfer).progress },
      });
      await this.dispatcher.dispatch(manager, transfer.pacsConfigId);
      return transfer;
    });
    return toTransferResponse(row);
  }

  /**
   * Queues a failed or cancelled transfer again: only the instances the PACS has not accepted are
   * sent, in new batches.
   */
  async retry(id: string, actor: Actor): Promise<TransferResponse> {
    const row = await this.inPacsTransaction(id, async (manager, transfer) => {
      if (transfer.status !== 'failed' && transfer.status !== 'cancelled') {
        throw new TransferError(
          TransferErrorCode.NotRetryable,
          `transfer ${id} is ${transfer.status}; only a failed or cancelled transfer can be retried`,
        );
      }
      const config = await this.transferTarget(manager, transfer.pacsConfigId, transfer.direction);
      const again =
        transfer.direction === 'import'
          ? await this.planning.replan(manager, transfer, config)
          : await this.resend(manager, transfer, config);
      await this.transfers.markQueuedAgain(manager, id, transfer.retries + 1);
      await this.ledger.emit(manager, TransferEvents.Queued, await this.ledger.recount(manager, id));
      // An import whose missing instances the store has come to hold meanwhile has nothing to fetch.
      await this.ledger.settle(manager, id);
      await this.audit.record(manager, actor, {
        action: 'transfer.retried',
        entityType: 'transfer',
        entityId: id,
        change: { resend: again },
      });
      await this.dispatcher.dispatch(manager, transfer.pacsConfigId);
      return this.transfers.lockTransfer(manager, id);
    });
    return toTransferResponse(row);
  }

  /** An export's retry: what the PACS has not accepted, in new batches. Answers how many. */
  private async resend(manager: EntityManager, transfer: Transfer, config: PacsConfig): Promise<number> {
    const id = transfer.id;
    const resend = await this.transfers.instancesToResend(manager, id);
    // Still in the transfer's study (locked like a new transfer's); each batch's files are read
    // from the index again when it is dispatched.
    const files = await this.studies.filesOf(
      manager,
      transfer.studyInstanceUid,
      resend.map((i) => i.sopInstanceUid),
    );
    const gone = resend.filter((i) => !files.has(i.sopInstanceUid)).length;
    if (gone > 0) {
      throw new TransferError(
        TransferErrorCode.NotRetryable,
        `${gone} of the ${resend.length} instances to resend are no longer in study ${transfer.studyInstanceUid} of the study store; upload the study again and make a new transfer`,
      );
    }
    const next = await this.transfers.nextBatchSeq(manager, id);
    const batchIds = await this.insertBatches(
      manager,
      transfer,
      resend,
      protocolOf(config.type).batchSlots(config),
      next,
    );
    await this.transfers.reassignInstances(
      manager,
      id,
      resend.map((i) => i.sopInstanceUid),
      batchIds,
    );
    return resend.length;
  }

  private async found(id: string): Promise<Transfer> {
    const row = await this.transfers.findTransfer(id);
    if (!row) throw new TransferError(TransferErrorCode.NotFound, `no transfer has id ${id}`);
    return row;
  }

  private async inPacsTransaction<R>(
    id: string,
    work: (manager: EntityManager, transfer: Transfer) => Promise<R>,
  ): Promise<R> {
    const { pacsConfigId } = await this.found(id);
    const result = await this.dataSource.transaction(async (manager) => {
      await this.transfers.lockPacs(manager, pacsConfigId);
      return work(manager, await this.transfers.lockTransfer(manager, id));
    });
    this.relay.wake();
    return result;
  }
}

function fingerprintOf(request: CreateTransferRequest): string {
  const canonical = JSON.stringify([
    request.direction,
    request.pacsConfigId,
    request.studyInstanceUid,
    request.seriesInstanceUid ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
