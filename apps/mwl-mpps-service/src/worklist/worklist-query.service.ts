import { Injectable, Logger } from '@nestjs/common';
import type { WorklistQueryData, WorklistQueryResult, WorklistTask } from '@pacslink/contracts';
import { ENCODABLE_CHARACTER_SETS, findWorklist, type EncodableCharacterSet } from '@pacslink/dimse';
import { EgressGuard } from '@pacslink/egress';
import { connectionOptions } from '../dimse-target';
import { withinDeadline } from './deadline';
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
    const matches = await withinDeadline(
      target.timeoutMs,
      `no complete worklist answer within ${target.timeoutMs} ms from ${target.host}:${target.port} — narrow the filters or raise timeoutMs`,
      (signal) =>
        findWorklist(connectionOptions(target, this.egress), {
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
          signal,
        }),
    );
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
