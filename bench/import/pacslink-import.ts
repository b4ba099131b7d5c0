import type { RunDetail, Scenario, ScenarioKind } from '../export/measure';
import { transferTimeoutMs } from '../export/pacslink-export';
import type { BenchStudy } from '../export/studies';
import type { TransferEvents } from '../export/transfer-events';
import type { ImportApi } from './import-api';

export interface ImportTarget {
  name: string;
  kind: Extract<ScenarioKind, 'wado' | 'cget' | 'cmove'>;
  pacsConfigId: string;
  target: number;
}

/**
 * End to end, timed from POST /transfers to the `transfer.completed` event: the study is then
 * stored and indexed. Before each run (untimed) the study leaves pacslink's store, so that the
 * import fetches all of it.
 */
export function pacslinkImport(
  target: ImportTarget,
  study: BenchStudy,
  api: ImportApi,
  events: TransferEvents,
): Scenario {
  return {
    name: target.name,
    kind: target.kind,
    target: target.target,
    study,
    prepare: () => api.forgetStudy(study.studyInstanceUid),
    run: async (): Promise<RunDetail> => {
      const posted = process.hrtime.bigint();
      const id = await api.startImport(target.pacsConfigId, study.studyInstanceUid);
      await events.waitForEnd(id, transferTimeoutMs(study));
      const started = events.startedAt(id);
      return { startSeconds: started === undefined ? undefined : Number(started - posted) / 1e9 };
    },
    verify: async () => {
      const stored = await api.storedInstances(study.studyInstanceUid);
      if (stored !== study.files.length)
        throw new Error(`pacslink's store holds ${stored} of ${study.files.length}`);
    },
  };
}
