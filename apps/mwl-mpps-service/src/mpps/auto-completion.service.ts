import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  MppsCompletionRequests,
  type MppsCompletionQueryData,
  type MppsCompletionTarget,
  type TransferEventData,
} from '@pacslink/contracts';
import { newUid } from '@pacslink/dicom';
import { Inbox, RpcClient } from '@pacslink/messaging';
import { DataSource, type EntityManager } from 'typeorm';
import { WorklistTasksRepository, type TaskRow } from '../worklist/worklist-tasks.repository';
import { MppsService } from './mpps.service';

/** The inbox name of this consumer: a redelivered transfer.completed marks nothing a second time. */
export const TRANSFER_COMPLETED_INBOX = 'mwl-mpps.transfer-completed';
/** How long config-service may take to say which MPPS SCP and which series. */
const COMPLETION_RPC_MS = 10_000;
/** How often due `completing` tasks are looked for; a new one is tried at once. */
const SWEEP_INTERVAL_MS = 1_000;
/** Retries of an unanswered N-CREATE / N-SET: 2 s, 4 s, 8 s … at most 5 min apart. */
const RETRY_BASE_MS = 2_000;
const RETRY_CAP_MS = 300_000;

export function retryDelayMs(attempts: number): number {
  return Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/**
 * Automatic completion (contract "MPPS"): an export of a study to a configuration with `mpps`
 * completes that configuration's tasks of the study. The event marks them `completing` (once per
 * event id, with the series config-service's index names and each task's MPPS UID, committed before
 * anything is sent); a sweep sends N-CREATE if needed and N-SET COMPLETED, one task at a time under
 * its row lock, retrying an SCP that does not answer with backoff. A task leaves `completing` only
 * by a COMPLETED the SCP accepted, or a refusal (kept on it, not retried: the same request would
 * be refused again).
 *
 * Matched by Study Instance UID, else (no open task has it) by the Accession Number config-service's
 * index holds for the study (transfer.completed carries none): an order's steps share its accession,
 * so the study UID, when a task has it, tells which step was performed.
 */
@Injectable()
export class AutoCompletionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AutoCompletionService.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly db: DataSource,
    private readonly inbox: Inbox,
    private readonly rpc: RpcClient,
    private readonly tasks: WorklistTasksRepository,
    private readonly mpps: MppsService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  async transferCompleted(event: TransferEventData, eventId: string): Promise<void> {
    if (event.direction !== 'export') return;
    const { pacsConfigId, studyInstanceUid } = event;
    const completion = await this.completion({ pacsConfigId, studyInstanceUid });
    if (completion.target === null) return;
    let marked = 0;
    let matchedBy = 'study';
    await this.inbox.once(TRANSFER_COMPLETED_INBOX, eventId, async (manager) => {
      let rows = await this.open(manager, pacsConfigId, 'study_instance_uid', studyInstanceUid);
      const accessionNumber = completion.accessionNumber ?? null;
      if (rows.length === 0 && accessionNumber !== null) {
        rows = await this.open(manager, pacsConfigId, 'accession_number', accessionNumber);
        matchedBy = 'accession';
      }
      for (const { id } of rows) {
        await manager.query(
          `UPDATE worklist_task SET status = 'completing', mpps_performed_series = $2::jsonb,
                  mpps_sop_instance_uid = COALESCE(mpps_sop_instance_uid, $3),
                  mpps_attempts = 0, mpps_next_attempt_at = now(), updated_at = now()
            WHERE id = $1`,
          [id, JSON.stringify(completion.performedSeries), newUid()],
        );
      }
      marked = rows.length;
    });
    this.logger.log({
      msg: 'export completed',
      transferId: event.transferId,
      pacsConfigId,
      tasks: marked,
      matchedBy: marked > 0 ? matchedBy : null,
    });
    if (marked > 0) void this.sweep();
  }

  /** The configuration's scheduled and in-progress tasks with this study UID or accession, locked. */
  private open(
    manager: EntityManager,
    pacsConfigId: string,
    column: 'study_instance_uid' | 'accession_number',
    value: string,
  ): Promise<{ id: string }[]> {
    return manager.query<{ id: string }[]>(
      `SELECT id FROM worklist_task
        WHERE pacs_config_id = $1 AND ${column} = $2 AND status IN ('scheduled', 'in-progress')
        FOR UPDATE`,
      [pacsConfigId, value],
    );
  }

  /** Tries every due `completing` task once; one sweep at a time in this process. */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        while (await this.completeOneDue()) {
          // next due task
        }
      } catch (error) {
        this.logger.warn({ msg: 'completion sweep failed', error: (error as Error).message });
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  private completeOneDue(): Promise<boolean> {
    return this.db.transaction(async (manager) => {
      const [row] = await manager.query<TaskRow[]>(
        `SELECT * FROM worklist_task WHERE status = 'completing' AND mpps_next_attempt_at <= now()
          ORDER BY mpps_next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
      );
      if (row === undefined) return false;
      await this.completeTask(manager, row);
      return true;
    });
  }

  private async completeTask(manager: EntityManager, row: TaskRow): Promise<void> {
    const { target } = await this.completion({
      pacsConfigId: row.pacs_config_id,
      studyInstanceUid: row.study_instance_uid ?? '',
    });
    const before = row.mpps_created ? 'in-progress' : 'scheduled';
    if (target === null) {
      await this.tasks.recordMpps(manager, row.id, {
        status: before,
        statusCode: null,
        meaning: 'MPPS_NOT_OFFERED',
        note: 'the configuration no longer offers MPPS: not completed',
        attempts: 0,
        nextAttemptAt: null,
      });
      return;
    }
    const performedSeries = row.mpps_performed_series ?? [];
    const step = await this.mpps.finish(manager, row, target, { kind: 'completed', performedSeries });
    const attempts = row.mpps_attempts + 1;
    if (step.failure === undefined) {
      await this.tasks.recordMpps(manager, row.id, {
        ...this.kept(step.task),
        attempts,
        nextAttemptAt: null,
      });
    } else if (step.failure.unreachable) {
      await this.tasks.recordMpps(manager, row.id, {
        ...this.kept(step.task),
        status: 'completing',
        attempts,
        nextAttemptAt: new Date(Date.now() + retryDelayMs(attempts)),
      });
    } else {
      // Refused: not retried (the same request would be refused again). The task goes back to where
      // the SCP has it (in-progress once an N-CREATE was accepted), the SCP's status on it.
      const createdNow = step.task.status === 'in-progress';
      await this.tasks.recordMpps(manager, row.id, {
        ...this.kept(step.task),
        status: createdNow || row.mpps_created ? 'in-progress' : 'scheduled',
        attempts,
        nextAttemptAt: null,
      });
    }
    this.logger.log({
      msg: 'automatic completion attempt',
      taskId: row.id,
      pacsConfigId: row.pacs_config_id,
      attempts,
      mppsStatus: step.task.mpps?.statusCode ?? null,
      outcome: step.failure === undefined ? 'completed' : step.failure.unreachable ? 'retry' : 'refused',
    });
  }

  private kept(task: Awaited<ReturnType<MppsService['finish']>>['task']) {
    return {
      statusCode: task.mpps?.statusCode ?? null,
      meaning: task.mpps?.meaning ?? null,
      note: task.mpps?.note ?? null,
    };
  }

  private completion(query: MppsCompletionQueryData): Promise<MppsCompletionTarget> {
    return this.rpc.request<MppsCompletionQueryData, MppsCompletionTarget>(
      MppsCompletionRequests.Get,
      query,
      COMPLETION_RPC_MS,
    );
  }
}
