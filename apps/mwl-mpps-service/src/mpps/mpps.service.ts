import { Injectable, Logger } from '@nestjs/common';
import {
  MppsErrorCodes,
  WorklistTaskEvents,
  type MppsCompleteData,
  type MppsDiscontinueData,
  type MppsTaskData,
  type PerformedSeriesData,
  type WorklistTargetData,
  type WorklistTask,
  type WorklistTaskStatus,
} from '@pacslink/contracts';
import { isValidUid, newUid, type DicomJson } from '@pacslink/dicom';
import { formatStatus, nCreate, nSet } from '@pacslink/dimse';
import { EgressGuard } from '@pacslink/egress';
import { Outbox } from '@pacslink/messaging';
import { DataSource, type EntityManager } from 'typeorm';
import {
  taskOf,
  WorklistTasksRepository,
  type MppsChange,
  type TaskRow,
} from '../worklist/worklist-tasks.repository';
import {
  completedModifications,
  discontinuedModifications,
  fallbackProtocolOf,
  inProgressAttributes,
  MPPS_SOP_CLASS_UID,
  unstartableReason,
} from './mpps-attributes';
import { connectionOptions } from '../dimse-target';
import { MppsError } from './mpps.errors';
import {
  acceptedOutcome,
  DUPLICATE_SOP_INSTANCE,
  failedOutcome,
  NO_LONGER_UPDATABLE,
  type MppsOutcome,
} from './mpps-outcome';

/** What one MPPS request did to its task: the task as stored, and the failure that stopped it, if any. */
export interface MppsStep {
  task: WorklistTask;
  failure?: MppsOutcome;
}

type FinalState =
  | { kind: 'completed'; performedSeries: PerformedSeriesData[] }
  | ({ kind: 'discontinued' } & Pick<MppsDiscontinueData, 'reason'> & {
        performedSeries: PerformedSeriesData[];
      });

/**
 * The task's Modality Performed Procedure Step (PS3.4 F.7) on its configuration's MPPS SCP:
 * N-CREATE IN PROGRESS, then N-SET COMPLETED or DISCONTINUED. One request per task at a time (the
 * row is locked while the SCP is asked); the task, its MPPS status and the `worklist.task.*` event
 * commit together. The SOP Instance UID is ours, committed before the first request.
 */
@Injectable()
export class MppsService {
  private readonly logger = new Logger(MppsService.name);

  constructor(
    private readonly db: DataSource,
    private readonly tasks: WorklistTasksRepository,
    private readonly egress: EgressGuard,
    private readonly outbox: Outbox,
  ) {}

  async start({ taskId, target }: MppsTaskData): Promise<WorklistTask> {
    return this.answer(taskId, 'start', async (manager, row) => {
      if (row.status !== 'scheduled') throw this.stateError(row, 'started', 'a scheduled task');
      return this.create(manager, row, target);
    });
  }

  async complete({ taskId, target, performedSeries }: MppsCompleteData): Promise<WorklistTask> {
    return this.answer(taskId, 'complete', async (manager, row) => {
      if (row.status !== 'scheduled' && row.status !== 'in-progress') {
        throw this.stateError(row, 'completed', 'a scheduled or in-progress task');
      }
      return this.finish(manager, row, target, { kind: 'completed', performedSeries });
    });
  }

  async discontinue({ taskId, target, reason, performedSeries }: MppsDiscontinueData): Promise<WorklistTask> {
    return this.answer(taskId, 'discontinue', async (manager, row) => {
      // F.7: only a step the SCP holds IN PROGRESS can be discontinued; a scheduled one was never created.
      if (row.status !== 'in-progress') throw this.stateError(row, 'discontinued', 'an in-progress task');
      return this.finish(manager, row, target, {
        kind: 'discontinued',
        reason,
        performedSeries: performedSeries ?? [],
      });
    });
  }

  /**
   * N-CREATE unless the SCP holds the instance already, then the N-SET to `final`. The task goes
   * to in-progress once created, to the final status once set; a failure leaves it where it got.
   */
  async finish(
    manager: EntityManager,
    row: TaskRow,
    target: WorklistTargetData,
    final: FinalState,
  ): Promise<MppsStep> {
    let current = row;
    if (!current.mpps_created) {
      const created = await this.create(manager, current, target);
      if (created.failure !== undefined) return created;
      current = { ...current, mpps_created: true };
    }
    const task = taskOf(current);
    const endedAt = new Date();
    const common = {
      endedAt,
      performedSeries: final.performedSeries,
      fallbackProtocol: fallbackProtocolOf(task),
      mwlEncoding: target.mwlEncoding,
    };
    const modifications =
      final.kind === 'completed'
        ? completedModifications(common)
        : discontinuedModifications({ ...common, reason: final.reason });
    let outcome = await this.send(target, 'N-SET', current, modifications);
    if (!outcome.accepted && outcome.statusCode === NO_LONGER_UPDATABLE) {
      // The UID is ours and only a final N-SET of ours ends it: one reached the SCP and its commit
      // here was lost (ADR 0009, "A final N-SET whose commit was lost"). Sending it again cannot
      // succeed; the step is done.
      outcome = {
        ...outcome,
        accepted: true,
        note: `the SCP holds this MPPS final already (${formatStatus(NO_LONGER_UPDATABLE)}, may no longer be updated): an earlier N-SET of ours reached it`,
      };
    }
    const status: WorklistTaskStatus = final.kind;
    if (!outcome.accepted) {
      return {
        task: await this.tasks.recordMpps(manager, row.id, this.change(outcome, { created: true })),
        failure: outcome,
      };
    }
    const done = await this.tasks.recordMpps(
      manager,
      row.id,
      this.change(outcome, { status, created: true }),
    );
    await this.announce(
      manager,
      done,
      status === 'completed' ? WorklistTaskEvents.Completed : WorklistTaskEvents.Discontinued,
    );
    return { task: done };
  }

  private async create(manager: EntityManager, row: TaskRow, target: WorklistTargetData): Promise<MppsStep> {
    const task = taskOf(row);
    const unstartable = unstartableReason(task);
    if (unstartable !== undefined) throw new MppsError(MppsErrorCodes.TaskState, unstartable);
    const attributes = inProgressAttributes(task, {
      stationAeTitle: target.callingAeTitle,
      startedAt: new Date(),
      mwlEncoding: target.mwlEncoding,
    });
    let outcome = await this.send(target, 'N-CREATE', row, attributes);
    if (!outcome.accepted && outcome.statusCode === DUPLICATE_SOP_INSTANCE) {
      // The UID is ours and new per task: the SCP holds it because an earlier attempt reached it.
      outcome = {
        ...outcome,
        accepted: true,
        note: 'the SCP already held this MPPS: an earlier N-CREATE of ours reached it',
      };
    }
    if (!outcome.accepted)
      return {
        task: await this.tasks.recordMpps(manager, row.id, this.change(outcome, {})),
        failure: outcome,
      };
    const started = await this.tasks.recordMpps(
      manager,
      row.id,
      this.change(outcome, { status: 'in-progress', created: true }),
    );
    await this.announce(manager, started, WorklistTaskEvents.Started);
    return { task: started };
  }

  /** Locks the task, runs `work`, commits; a failure of the SCP is then the caller's error (502). */
  private async answer(
    taskId: string,
    action: string,
    work: (manager: EntityManager, row: TaskRow) => Promise<MppsStep>,
  ): Promise<WorklistTask> {
    const assigned = await this.tasks.assignMppsUid(taskId, newUid());
    if (assigned === undefined)
      throw new MppsError(MppsErrorCodes.TaskNotFound, `no worklist task ${taskId}`);
    const step = await this.db.transaction(async (manager) => {
      const row = await this.tasks.lock(manager, taskId);
      if (row === undefined) throw new MppsError(MppsErrorCodes.TaskNotFound, `no worklist task ${taskId}`);
      return work(manager, row);
    });
    this.logger.log({
      msg: `mpps ${action}`,
      taskId,
      pacsConfigId: step.task.pacsConfigId,
      status: step.task.status,
      mppsStatus: step.task.mpps?.statusCode ?? null,
      failed: step.failure !== undefined,
    });
    if (step.failure !== undefined) {
      throw new MppsError(
        MppsErrorCodes.ScpFailed,
        `the MPPS SCP did not ${action} task ${taskId}: ${step.failure.note ?? step.failure.meaning}`,
      );
    }
    return step.task;
  }

  private change(
    outcome: MppsOutcome,
    extra: Omit<MppsChange, 'statusCode' | 'meaning' | 'note'>,
  ): MppsChange {
    return { statusCode: outcome.statusCode, meaning: outcome.meaning, note: outcome.note, ...extra };
  }

  private stateError(row: TaskRow, verb: string, allowed: string): MppsError {
    return new MppsError(
      MppsErrorCodes.TaskState,
      `task ${row.id} is ${row.status}: only ${allowed} can be ${verb}`,
    );
  }

  private async send(
    target: WorklistTargetData,
    command: 'N-CREATE' | 'N-SET',
    row: TaskRow,
    dataSet: DicomJson,
  ): Promise<MppsOutcome> {
    const sopInstanceUid = row.mpps_sop_instance_uid;
    if (sopInstanceUid === null) throw new Error(`task ${row.id} has no MPPS SOP Instance UID`);
    const options = connectionOptions(target, this.egress);
    try {
      const result =
        command === 'N-CREATE'
          ? await nCreate(options, { sopClassUid: MPPS_SOP_CLASS_UID, sopInstanceUid, dataSet })
          : await nSet(options, { sopClassUid: MPPS_SOP_CLASS_UID, sopInstanceUid, modifications: dataSet });
      return acceptedOutcome(result);
    } catch (error) {
      return failedOutcome(error);
    }
  }

  private async announce(
    manager: EntityManager,
    task: WorklistTask,
    contract: typeof WorklistTaskEvents.Started,
  ): Promise<void> {
    await this.outbox.enqueue(manager, contract, {
      taskId: task.id,
      pacsConfigId: task.pacsConfigId,
      status: task.status,
      ...(task.studyInstanceUid !== null && isValidUid(task.studyInstanceUid)
        ? { studyInstanceUid: task.studyInstanceUid }
        : {}),
      ...(task.accessionNumber !== null ? { accessionNumber: task.accessionNumber } : {}),
    });
  }
}
