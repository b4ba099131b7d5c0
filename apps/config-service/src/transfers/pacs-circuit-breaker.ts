import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import { PacsConfigsService } from '../pacs-configs/pacs-configs.service';
import {
  circuitOpenReason,
  decideAttempt,
  decideDispatch,
  waitedTooLong,
  type AttemptVerdict,
  type CircuitChange,
  type DispatchGate,
} from './circuit-transitions';
import { PacsCircuitsRepository } from './pacs-circuits.repository';
import { TransferLedger } from './transfer-ledger';
import { TRANSFER_OPTIONS, type TransferOptions } from './transfer-options';
import { TransfersRepository } from './transfers.repository';

const SYSTEM = { id: 'system' };

/**
 * The circuit of each PACS (circuit-transitions.ts), in the caller's transaction, which holds the
 * PACS's lock (TransfersRepository.lockPacs): its state lives in Postgres, so every config-service
 * replica dispatching to the PACS sees and changes the same circuit.
 */
@Injectable()
export class PacsCircuitBreaker {
  private readonly logger = new Logger(PacsCircuitBreaker.name);

  constructor(
    private readonly circuits: PacsCircuitsRepository,
    private readonly ledger: TransferLedger,
    private readonly audit: AuditLog,
    private readonly pacsConfigs: PacsConfigsService,
    private readonly transfers: TransfersRepository,
    @Inject(TRANSFER_OPTIONS) private readonly options: TransferOptions,
  ) {}

  /** How many of the PACS's batches may go out now (decideDispatch). */
  async gate(manager: EntityManager, pacsConfigId: string): Promise<DispatchGate> {
    return decideDispatch(await this.circuits.lock(manager, pacsConfigId));
  }

  /** `batchId` went out as the probe of the PACS's open circuit. */
  async probing(manager: EntityManager, pacsConfigId: string, batchId: string): Promise<void> {
    await this.circuits.probing(manager, pacsConfigId, batchId);
    this.logger.log({ msg: 'PACS circuit half-open: one batch goes as the probe', pacsConfigId, batchId });
  }

  /** What an attempt of one of the PACS's batches showed; answers what changed. */
  async recordAttempt(
    manager: EntityManager,
    pacsConfigId: string,
    attempt: { batchId: string; verdict: AttemptVerdict; reason: string },
  ): Promise<CircuitChange['kind']> {
    const circuit = await this.circuits.lock(manager, pacsConfigId);
    const change = decideAttempt(circuit, attempt, this.options.circuit);
    await this.circuits.apply(manager, pacsConfigId, change);
    switch (change.kind) {
      case 'open':
        if (change.reopened) {
          this.logger.warn({
            msg: 'PACS circuit opened again: the probe found it unreachable',
            pacsConfigId,
            coolDownMs: change.coolDownMs,
          });
        } else {
          // The reason quotes what the worker saw when it tried to connect: no patient data.
          this.logger.warn({
            msg: 'PACS circuit opened: its batches wait instead of spending attempts',
            pacsConfigId,
            failures: change.failures,
            reason: change.lastError,
          });
          await this.audit.record(manager, SYSTEM, {
            action: 'pacs-config.circuit-opened',
            entityType: 'pacs-config',
            entityId: pacsConfigId,
            change: { failures: change.failures, reason: change.lastError, coolDownMs: change.coolDownMs },
          });
        }
        break;
      case 'close':
        this.logger.log({ msg: 'PACS circuit closed: the PACS answered', pacsConfigId });
        await this.audit.record(manager, SYSTEM, {
          action: 'pacs-config.circuit-closed',
          entityType: 'pacs-config',
          entityId: pacsConfigId,
          change: { openedAt: circuit.openedAt?.toISOString() ?? null, reason: 'the PACS answered' },
        });
        break;
      case 'none':
      case 'count':
      case 'reset':
        break;
    }
    return change.kind;
  }

  /**
   * Once the PACS's circuit has been open for the wait bound, its transfers that wait for it (no
   * batch out) fail, naming the circuit; a new one fails as soon as it is dispatched, unless it
   * goes as the next probe.
   */
  async failWaiting(manager: EntityManager, pacsConfigId: string): Promise<void> {
    const circuit = await this.circuits.lock(manager, pacsConfigId);
    if (!waitedTooLong(circuit, this.options.circuit)) return;
    const config = await this.pacsConfigs.findIn(manager, pacsConfigId);
    if (!config) return;
    const waiting = await this.transfers.transfersWaitingFor(manager, pacsConfigId);
    if (waiting.length === 0) return;
    const reason = circuitOpenReason(config, circuit, this.options.circuit);
    for (const id of waiting) await this.ledger.fail(manager, id, reason);
  }
}
