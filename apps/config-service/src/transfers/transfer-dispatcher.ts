import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { TransferDirections, type ExportInstanceData, type TransferDirection } from '@pacslink/contracts';
import { BrokerConnection, Outbox, OutboxRelay } from '@pacslink/messaging';
import { SecretCipher } from '@pacslink/secrets';
import type { PacsConfig } from '../pacs-configs/pacs-config.entity';
import { PacsConfigsService } from '../pacs-configs/pacs-configs.service';
import type { OutboundCommand } from '../pacs-configs/protocols/pacs-protocol';
import { capabilitySwitchOf, offers, protocolOf } from '../pacs-configs/protocols/pacs-protocols';
import { SettingsService } from '../settings/settings.service';
import { StudyIndexService, type InstanceFileRow } from '../studies/study-index.service';
import { decideClaim } from './batch-transitions';
import { HeldClaimAnswers } from './held-claim-answers';
import { ImportCommands } from './import-commands';
import { PacsCircuitBreaker } from './pacs-circuit-breaker';
import { PacsCircuitsRepository } from './pacs-circuits.repository';
import { TransferLedger } from './transfer-ledger';
import { TRANSFER_OPTIONS, type TransferOptions } from './transfer-options';
import type { TransferBatch } from './transfer-batch.entity';
import type { Transfer } from './transfer.entity';
import { TransfersRepository } from './transfers.repository';

/** How many expired leases one sweep takes back; the next sweep takes the rest. */
const EXPIRED_LEASES_PER_SWEEP = 100;

/** Whether the configuration still offers the direction: it may have changed since the transfer was made. */
export function directionProblem(row: PacsConfig, direction: TransferDirection): string | undefined {
  if (!offers(row, direction)) {
    return `the PACS configuration no longer offers ${direction} (${capabilitySwitchOf(row, direction)} is off)`;
  }
  return undefined;
}

/**
 * Hands batches to the workers: at most `maxAssociations` batches of one DIMSE PACS are out at a
 * time across every transfer, every worker replica and every config-service replica, because
 * every change to the batches of a PACS holds that PACS's transaction-scoped advisory lock first
 * (TransfersRepository.lockPacs)
 * (always first: no deadlock between dispatch, reports, cancel and retry). A periodic sweep
 * dispatches what became available (retry delays) and takes back batches whose lease expired.
 */
@Injectable()
export class TransferDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TransferDispatcher.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  /**
   * Until a sweep ran with the database and the broker both reachable, this replica may have missed
   * reports (heartbeats waiting in the queue): the next such sweep extends the running leases first.
   */
  private missedReports = true;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly relay: OutboxRelay,
    private readonly settings: SettingsService,
    private readonly ledger: TransferLedger,
    private readonly transfers: TransfersRepository,
    private readonly cipher: SecretCipher,
    private readonly broker: BrokerConnection,
    private readonly studies: StudyIndexService,
    private readonly pacsConfigs: PacsConfigsService,
    private readonly circuit: PacsCircuitBreaker,
    private readonly circuits: PacsCircuitsRepository,
    private readonly importCommands: ImportCommands,
    private readonly heldClaims: HeldClaimAnswers,
    @Inject(TRANSFER_OPTIONS) private readonly options: TransferOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((error: unknown) => {
          this.missedReports = true;
          this.logger.warn({ msg: 'transfer sweep failed', reason: (error as Error).message });
        })
        .finally(() => (this.sweeping = undefined));
    }, this.options.sweepIntervalMs);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /**
   * Dispatches the PACS's available batches into its free slots, inside the caller's transaction
   * (which must hold the PACS lock). Transfers wait while settings.allowTransfer is off.
   */
  async dispatch(manager: EntityManager, pacsConfigId: string): Promise<void> {
    const settings = await this.settings.current(manager);
    if (!settings.allowTransfer) return;
    const config = await this.pacsConfigs.findIn(manager, pacsConfigId);
    if (!config) {
      await this.ledger.failActiveTransfersOf(manager, pacsConfigId, 'the PACS configuration was deleted');
      return;
    }
    // A configuration that stopped offering one direction fails that direction's transfers only.
    for (const direction of TransferDirections) {
      const problem = directionProblem(config, direction);
      if (problem !== undefined)
        await this.ledger.failActiveTransfersOf(manager, pacsConfigId, problem, direction);
    }
    const slots = protocolOf(config.type).batchSlots(config);
    const gate = await this.circuit.gate(manager, pacsConfigId);
    // An open circuit sends nothing (waiting costs no attempt), then one probe once nothing runs.
    if (gate.kind === 'hold') return;
    let running = await this.transfers.countBatchesRunning(manager, pacsConfigId);
    // Held claims first, oldest first, into the slots free now (the bound: running ≤ slots).
    const free = gate.kind === 'probe' ? (running === 0 ? 1 : 0) : slots - running;
    for (const id of free > 0 ? await this.transfers.heldClaims(manager, pacsConfigId, free) : []) {
      if (await this.grantHeld(manager, id)) {
        running += 1;
        if (gate.kind === 'probe') return this.circuit.probing(manager, pacsConfigId, id);
      }
    }
    // One batch more per slot than run goes out ahead: its claim is held until a slot frees, so
    // the next batch of a slot starts without a command and claim round trip. A probe never goes
    // ahead, nor does an import's batch: its command is built from what the batches before it
    // learnt (C-GET fell back to C-MOVE, which instances arrived); and nothing passes it ahead.
    const out = await this.transfers.countBatchesOut(manager, pacsConfigId);
    if (gate.kind === 'probe' && out > 0) return;
    const room = gate.kind === 'probe' ? 1 : 2 * slots - out;
    if (room <= 0) return;
    const batches = await this.transfers.nextDispatchableBatches(manager, pacsConfigId, room);
    for (const [n, { id, kind }] of batches.entries()) {
      if (out + n >= slots && kind !== 'send') return;
      const sent = await this.dispatchBatch(manager, id, config, settings.defaultCallingAeTitle);
      if (sent && gate.kind === 'probe') await this.circuit.probing(manager, pacsConfigId, id);
    }
  }

  /** Whether a dispatched batch of the PACS may run now: fewer of its batches run than it has slots. */
  async slotFree(manager: EntityManager, pacsConfigId: string): Promise<boolean> {
    const config = await this.pacsConfigs.findIn(manager, pacsConfigId);
    if (!config) return false;
    const running = await this.transfers.countBatchesRunning(manager, pacsConfigId);
    return running < protocolOf(config.type).batchSlots(config);
  }

  /** The held claim of the batch is granted as its claim would be; answered after the commit. */
  private async grantHeld(manager: EntityManager, batchId: string): Promise<boolean> {
    const batch = await this.transfers.lockBatch(manager, batchId);
    if (!batch?.heldBy) return false;
    const transfer = await this.transfers.lockTransfer(manager, batch.transferId);
    if (
      decideClaim(batch, transfer.status, { attempt: batch.attempt, claimant: batch.heldBy }, true).kind !==
      'grant'
    )
      return false;
    await this.ledger.grant(manager, batch, transfer, batch.heldBy);
    this.heldClaims.grantedIn(batchId);
    return true;
  }

  /** Whether the batch went out (it may instead be done, or its transfer failed). */
  private async dispatchBatch(
    manager: EntityManager,
    batchId: string,
    config: PacsConfig,
    defaultCallingAeTitle: string,
  ): Promise<boolean> {
    const batch = await this.transfers.findBatch(manager, batchId);
    const transfer = await this.transfers.lockTransfer(manager, batch.transferId);
    if (batch.kind !== 'send') {
      const attempt = batch.attempt + 1;
      const command = await this.importCommands.commandFor(manager, batch, transfer, config, {
        attempt,
        defaultCallingAeTitle,
      });
      return this.send(manager, batch, attempt, command, transfer);
    }
    const instances = await this.instancesToSend(manager, batchId, transfer);
    if (instances === undefined) return false;
    if (instances.length === 0) return this.send(manager, batch, batch.attempt, undefined, transfer);
    const attempt = batch.attempt + 1;
    const command = protocolOf(config.type).exportBatchCommand(
      config,
      { transferId: batch.transferId, batchId, attempt, instances, pacsConfigId: config.id },
      { cipher: this.cipher, defaultCallingAeTitle, studyInstanceUid: transfer.studyInstanceUid },
    );
    return this.send(manager, batch, attempt, command, transfer);
  }

  /** The command to the outbox as the batch's `attempt`; no command: nothing left, the batch is done. */
  private async send(
    manager: EntityManager,
    batch: Pick<TransferBatch, 'id' | 'transferId'>,
    attempt: number,
    command: OutboundCommand | undefined,
    transfer: Pick<Transfer, 'traceContext'>,
  ): Promise<boolean> {
    if (command === undefined) {
      await this.transfers.markBatchDone(manager, batch.id);
      await this.ledger.settle(manager, batch.transferId);
      return false;
    }
    await this.transfers.markBatchDispatched(manager, batch.id, attempt, this.options.dispatchLeaseMs);
    // In the trace of the request that made the transfer, whatever work dispatches the batch now
    // (a sweep, another transfer's report); a row from before tracing has none: the active one.
    await this.outbox.enqueue(manager, command.contract, command.data, transfer.traceContext ?? undefined);
    return true;
  }

  /**
   * The batch's pending instances with their files as the study store's index holds them now, not
   * as when the transfer was made: a re-upload may have replaced a file since (a move to another
   * study or series is refused while the transfer is active, StudiesRepository.indexInstances).
   * An instance gone from the study fails the transfer (undefined): it cannot be sent again.
   */
  private async instancesToSend(
    manager: EntityManager,
    batchId: string,
    transfer: Pick<Transfer, 'id' | 'studyInstanceUid'>,
  ): Promise<ExportInstanceData[] | undefined> {
    const uids = await this.transfers.unansweredInstancesOf(manager, batchId);
    const files = await this.studies.filesOf(manager, transfer.studyInstanceUid, uids);
    const instances: ExportInstanceData[] = [];
    const gone: string[] = [];
    for (const sopInstanceUid of uids) {
      const file = files.get(sopInstanceUid);
      if (file === undefined) gone.push(sopInstanceUid);
      else instances.push({ sopInstanceUid, ...pick(file) });
    }
    if (gone.length === 0) return instances;
    await this.ledger.fail(
      manager,
      transfer.id,
      `${gone.length} instances to send are no longer in study ${transfer.studyInstanceUid} of the ` +
        `study store (deleted, or moved to another study), e.g. ${gone[0]}`,
    );
    return undefined;
  }

  /** One transaction per PACS, then the relay is woken for the commands it enqueued. */
  async dispatchInOwnTransaction(pacsConfigId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.transfers.lockPacs(manager, pacsConfigId);
      await this.dispatch(manager, pacsConfigId);
    });
    this.relay.wake();
    this.heldClaims.answerDecided();
  }

  /**
   * Expired leases are taken back (TransferLedger.takeBackExpired); then every PACS with available
   * work is dispatched. Leases are judged only while this replica can hear the workers' reports.
   */
  async sweep(): Promise<void> {
    if (!this.broker.isConnected()) this.missedReports = true;
    else if (this.missedReports) {
      await this.extendRunningLeases();
      this.missedReports = false;
    }
    const expired = this.missedReports ? [] : await this.transfers.expiredLeases(EXPIRED_LEASES_PER_SWEEP);
    for (const batch of expired) {
      await this.dataSource.transaction(async (manager) => {
        await this.transfers.lockPacs(manager, batch.pacsConfigId);
        await this.ledger.takeBackExpired(manager, batch.id);
        await this.dispatch(manager, batch.pacsConfigId);
      });
    }
    // Transfers that waited out the bound for a PACS found unreachable again fail, naming it.
    for (const pacsConfigId of await this.circuits.openLongerThan(this.options.circuit.waitMs)) {
      await this.dataSource.transaction(async (manager) => {
        await this.transfers.lockPacs(manager, pacsConfigId);
        await this.circuit.failWaiting(manager, pacsConfigId);
      });
      this.relay.wake();
    }
    for (const pacsConfigId of await this.transfers.pacsWithDispatchableBatches()) {
      await this.dispatchInOwnTransaction(pacsConfigId);
    }
    if (expired.length > 0) this.relay.wake();
    // Held claims decided by any replica's change (a grant whose answer was not sent, a cancel).
    await this.heldClaims.answerAll();
  }

  /** TransferLedger.extendRunningLeases for every PACS with a running batch, each under its lock. */
  private async extendRunningLeases(): Promise<void> {
    for (const pacsConfigId of await this.transfers.pacsWithRunningBatches()) {
      await this.dataSource.transaction(async (manager) => {
        await this.transfers.lockPacs(manager, pacsConfigId);
        await this.ledger.extendRunningLeases(manager, pacsConfigId);
      });
    }
  }
}

function pick({ sopClassUid, transferSyntaxUid, path, sizeBytes }: InstanceFileRow) {
  return { sopClassUid, transferSyntaxUid, path, sizeBytes };
}
