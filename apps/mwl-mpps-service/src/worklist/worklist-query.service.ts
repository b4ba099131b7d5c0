import { Injectable, Logger } from '@nestjs/common';
import type { WorklistQueryData, WorklistQueryResult, WorklistTask } from '@pacslink/contracts';
import { ENCODABLE_CHARACTER_SETS, findWorklist, type EncodableCharacterSet } from '@pacslink/dimse';
import { EgressGuard } from '@pacslink/egress';
import { stepKeyOf, stepsOf } from './worklist-step';
import { WorklistTasksRepository } from './worklist-tasks.repository';

function queryCharsetOf(encoding: string): EncodableCharacterSet | undefined {
  return ENCODABLE_CHARACTER_SETS.find((charset) => charset === encoding);
}

/**
 * The contract's worklist query: one Modality Worklist C-FIND to the configuration's PACS, each
 * scheduled step kept as a task (created, or updated in place: see stepKeyOf), the tasks answered.
 */
@Injectable()
export class WorklistQueryService {
  private readonly logger = new Logger(WorklistQueryService.name);

  constructor(
    private readonly egress: EgressGuard,
    private readonly tasks: WorklistTasksRepository,
  ) {}

  async query({ pacsConfigId, target, filters }: WorklistQueryData): Promise<WorklistQueryResult> {
    // The whole C-FIND within timeoutMs (each phase has its own bound too), so that the answer
    // reaches config-service before its RPC bound; past it, C-CANCEL and release.
    const deadline = AbortSignal.timeout(target.timeoutMs);
    const matches = await findWorklist(
      {
        host: target.host,
        port: target.port,
        callingAeTitle: target.callingAeTitle,
        calledAeTitle: target.calledAeTitle,
        connectTimeoutMs: target.timeoutMs,
        associationTimeoutMs: target.timeoutMs,
        pduTimeoutMs: target.timeoutMs,
        egress: this.egress,
      },
      {
        stepKeys: {
          ...(filters.scheduledDate ? { ScheduledProcedureStepStartDate: filters.scheduledDate } : {}),
          ...(filters.modality ? { Modality: filters.modality } : {}),
          ...(filters.scheduledStationAeTitle
            ? { ScheduledStationAETitle: filters.scheduledStationAeTitle }
            : {}),
        },
        // The filters are ASCII (DA, CS, AE): the set is declared only if a key ever needs it.
        queryCharset: queryCharsetOf(target.mwlEncoding),
        fallbackCharset: target.mwlEncoding,
        signal: deadline,
      },
    ).catch((error: unknown) => {
      if (!deadline.aborted) throw error;
      throw new Error(
        `no complete worklist answer within ${target.timeoutMs} ms from ${target.host}:${target.port} — narrow the filters or raise timeoutMs`,
      );
    });
    const tasks: WorklistTask[] = [];
    let unidentified = 0;
    for (const step of matches.flatMap((match) => stepsOf(match, target.mwlEncoding))) {
      const key = stepKeyOf(step);
      if (key === undefined) unidentified++;
      else tasks.push(await this.tasks.upsert(pacsConfigId, key, step));
    }
    // Counts only: no patient name or ID reaches the log.
    this.logger.log({
      msg: 'worklist queried',
      pacsConfigId,
      matches: matches.length,
      tasks: tasks.length,
      unidentified,
      undecodable: tasks.filter((task) => task.warnings.length > 0).length,
    });
    return { tasks, unidentified };
  }
}
