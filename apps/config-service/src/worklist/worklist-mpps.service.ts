import { Injectable } from '@nestjs/common';
import {
  DEFAULT_DISCONTINUATION_REASON,
  MppsErrorCodes,
  MppsRequests,
  WorklistRequests,
  type DiscontinuationReason,
  type MessageContract,
  type MppsCompletionQueryData,
  type MppsCompletionTarget,
  type MppsTaskData,
  type PerformedSeriesData,
  type WorklistTask,
  type WorklistTaskGetData,
} from '@pacslink/contracts';
import { RpcClient, RpcRemoteError } from '@pacslink/messaging';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import type { Actor } from '../auth/actor';
import { PacsConfigError } from '../pacs-configs/pacs-configs.errors';
import { PacsConfigsService } from '../pacs-configs/pacs-configs.service';
import { protocolOf } from '../pacs-configs/protocols/pacs-protocols';
import { SettingsService } from '../settings/settings.service';
import { StudyIndexService } from '../studies/study-index.service';
import { askMwlMpps } from './mwl-mpps-rpc';
import { WORKLIST_LIST_RPC_MS, WORKLIST_RPC_MARGIN_MS } from './worklist.service';
import { WorklistError, WorklistErrorCode } from './worklist.errors';

/** mwl-mpps-service's refusals, as this edge answers them. */
const REMOTE_CODES: Record<string, WorklistErrorCode> = {
  [MppsErrorCodes.TaskNotFound]: WorklistErrorCode.TaskNotFound,
  [MppsErrorCodes.TaskState]: WorklistErrorCode.TaskState,
  [MppsErrorCodes.ScpFailed]: WorklistErrorCode.MppsFailed,
};

/** Refusals answered before anything went to the MPPS SCP: nothing to audit. */
const NOTHING_SENT: readonly WorklistErrorCode[] = [
  WorklistErrorCode.TaskNotFound,
  WorklistErrorCode.TaskState,
  WorklistErrorCode.MppsNotOffered,
];
const DONE = { start: 'started', complete: 'completed', discontinue: 'discontinued' } as const;

/**
 * A task's MPPS through config-service: it owns the configurations and the study index, so it
 * builds the MPPS SCP's target (409 unless the task's configuration has `mpps`) and, to complete,
 * names what was performed from its index; mwl-mpps-service sends the N-CREATE and N-SET.
 */
@Injectable()
export class WorklistMppsService {
  constructor(
    private readonly pacsConfigs: PacsConfigsService,
    private readonly settings: SettingsService,
    private readonly studies: StudyIndexService,
    private readonly dataSource: DataSource,
    private readonly rpc: RpcClient,
    private readonly audit: AuditLog,
  ) {}

  async start(taskId: string, actor: Actor): Promise<WorklistTask> {
    const { task, data, timeoutMs } = await this.request(taskId);
    return this.audited(actor, task, 'start', {}, () => this.ask(MppsRequests.Start, data, timeoutMs));
  }

  async complete(taskId: string, actor: Actor): Promise<WorklistTask> {
    const { task, data, timeoutMs } = await this.request(taskId);
    const performedSeries =
      task.studyInstanceUid === null ? [] : await this.performedSeries(task.studyInstanceUid);
    const series = performedSeries.length;
    // N-CREATE (if the task was not started) and N-SET, each bounded by timeoutMs
    return this.audited(actor, task, 'complete', { performedSeries: series }, () =>
      this.ask(MppsRequests.Complete, { ...data, performedSeries }, timeoutMs * 2),
    );
  }

  async discontinue(
    taskId: string,
    reason: DiscontinuationReason | undefined,
    actor: Actor,
  ): Promise<WorklistTask> {
    const { task, data, timeoutMs } = await this.request(taskId);
    const chosen = reason ?? DEFAULT_DISCONTINUATION_REASON;
    return this.audited(actor, task, 'discontinue', { reason: chosen }, () =>
      this.ask(MppsRequests.Discontinue, { ...data, reason: chosen }, timeoutMs),
    );
  }

  /**
   * An MPPS request changes the step on the MPPS SCP: audited as the other mutating routes are,
   * `worklist-task.started|completed|discontinued`, or `worklist-task.<step>-failed` when it may
   * have reached the SCP without an answer saying so (refused, no answer, mwl-mpps-service gone).
   * Never the patient, nor the SCP's Error Comment (it may name them): ids, statuses and counts.
   */
  private async audited(
    actor: Actor,
    before: WorklistTask,
    step: 'start' | 'complete' | 'discontinue',
    change: Record<string, unknown>,
    send: () => Promise<WorklistTask>,
  ): Promise<WorklistTask> {
    const common = { pacsConfigId: before.pacsConfigId, before: before.status, ...change };
    let task: WorklistTask;
    try {
      task = await send();
    } catch (error) {
      if (!(error instanceof WorklistError && NOTHING_SENT.includes(error.code))) {
        await this.record(actor, before.id, `worklist-task.${step}-failed`, {
          ...common,
          error: error instanceof WorklistError ? error.code : 'unexpected',
        });
      }
      throw error;
    }
    await this.record(actor, task.id, `worklist-task.${DONE[step]}`, {
      ...common,
      status: task.status,
      mppsSopInstanceUid: task.mpps?.sopInstanceUid ?? null,
      mppsStatusCode: task.mpps?.statusCode ?? null,
    });
    return task;
  }

  private record(actor: Actor, taskId: string, action: string, change: Record<string, unknown>) {
    return this.dataSource.transaction((manager) =>
      this.audit.record(manager, actor, { action, entityType: 'worklist-task', entityId: taskId, change }),
    );
  }

  /**
   * For mwl-mpps-service's automatic completion (an export of the study to the configuration
   * completed): the configuration's MPPS SCP, null without `mpps` or when it is gone, and the
   * study's series and Accession Number as the index holds them (the event carries neither).
   */
  async completionTarget({
    pacsConfigId,
    studyInstanceUid,
  }: MppsCompletionQueryData): Promise<MppsCompletionTarget> {
    const row = await this.pacsConfigs.stored(pacsConfigId).catch((error: unknown) => {
      if (error instanceof PacsConfigError) return undefined;
      throw error;
    });
    if (row === undefined) return { target: null, performedSeries: [], accessionNumber: null };
    const { defaultCallingAeTitle } = await this.settings.current();
    const target = protocolOf(row.type).mppsTarget?.(row, { defaultCallingAeTitle }) ?? null;
    if (target === null) return { target, performedSeries: [], accessionNumber: null };
    return {
      target,
      performedSeries: await this.performedSeries(studyInstanceUid),
      accessionNumber: await this.studies.accessionNumberOf(studyInstanceUid),
    };
  }

  private async request(
    taskId: string,
  ): Promise<{ task: WorklistTask; data: MppsTaskData; timeoutMs: number }> {
    const task = await this.rpcCall<WorklistTaskGetData, WorklistTask>(
      WorklistRequests.GetTask,
      { taskId },
      WORKLIST_LIST_RPC_MS,
    );
    const row = await this.pacsConfigs.stored(task.pacsConfigId);
    const { defaultCallingAeTitle } = await this.settings.current();
    const target = protocolOf(row.type).mppsTarget?.(row, { defaultCallingAeTitle });
    if (target === undefined) {
      throw new WorklistError(
        WorklistErrorCode.MppsNotOffered,
        `PACS configuration ${row.id} ("${row.aeTitle}") does not offer MPPS: only a DIMSE configuration with mpps does (PATCH /api/v1/pacs-configs/${row.id} {"mpps": true})`,
      );
    }
    return { task, data: { taskId, target }, timeoutMs: row.timeoutMs };
  }

  /** The task's study as the index holds it, series by series, in sending order. */
  private async performedSeries(studyInstanceUid: string): Promise<PerformedSeriesData[]> {
    const instances = await this.dataSource.transaction((manager) =>
      this.studies.instancesOf(manager, studyInstanceUid),
    );
    const bySeries = new Map<string, PerformedSeriesData>();
    for (const instance of instances) {
      let series = bySeries.get(instance.seriesInstanceUid);
      if (series === undefined) {
        series = { seriesInstanceUid: instance.seriesInstanceUid, instances: [] };
        bySeries.set(instance.seriesInstanceUid, series);
      }
      series.instances.push({ sopClassUid: instance.sopClassUid, sopInstanceUid: instance.sopInstanceUid });
    }
    return [...bySeries.values()];
  }

  private ask<T extends object>(
    contract: MessageContract<T>,
    data: T,
    timeoutMs: number,
  ): Promise<WorklistTask> {
    return this.rpcCall(contract, data, timeoutMs + WORKLIST_RPC_MARGIN_MS);
  }

  private async rpcCall<T extends object, R>(
    contract: MessageContract<T>,
    data: T,
    bound: number,
  ): Promise<R> {
    try {
      return await askMwlMpps<T, R>(this.rpc, contract, data, bound);
    } catch (error) {
      const code =
        error instanceof RpcRemoteError && error.code !== undefined ? REMOTE_CODES[error.code] : undefined;
      if (code !== undefined) throw new WorklistError(code, (error as Error).message);
      throw error;
    }
  }
}
