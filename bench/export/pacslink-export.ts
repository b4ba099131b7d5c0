import { deleteStudyFromOrthanc, type OrthancPeer } from '@pacslink/testing';
import { expectStudyComplete } from './bench-orthanc';
import type { RunDetail, Scenario } from './measure';
import type { PacslinkApi } from './pacslink-api';
import type { BenchStudy } from './studies';
import type { TransferEvents } from './transfer-events';

export interface ExportTarget {
  name: string;
  kind: 'cstore' | 'stow';
  pacsConfigId: string;
  /** Least throughput ratio against the baseline (storescu or curl); none: reported only. */
  target?: number;
}

/** Generous: a stuck transfer fails the scenario instead of hanging the benchmark. */
export function transferTimeoutMs(study: BenchStudy): number {
  return 60_000 + study.files.length * 200 + (study.totalBytes / 1e6) * 1_000;
}

/**
 * POST /transfers, then wait for its `transfer.completed`; GET /transfers/{id} says why when it
 * fails. Answers how long the transfer took to start (the `transfer.started` event): the part of
 * the time a small study spends before any instance is sent.
 */
export async function exportStudy(
  api: PacslinkApi,
  events: TransferEvents,
  pacsConfigId: string,
  study: BenchStudy,
): Promise<RunDetail> {
  const posted = process.hrtime.bigint();
  const id = await api.startExport(pacsConfigId, study.studyInstanceUid);
  try {
    await events.waitForEnd(id, transferTimeoutMs(study));
  } catch (error) {
    const state = await api.transfer(id).then(
      (transfer) => JSON.stringify(transfer),
      (cause: Error) => `(GET /transfers/${id} failed too: ${cause.message})`,
    );
    throw new Error(`${(error as Error).message}; transfer: ${state}`);
  }
  const started = events.startedAt(id);
  return { startSeconds: started === undefined ? undefined : Number(started - posted) / 1e9 };
}

/** End to end, timed from POST /transfers to the `transfer.completed` event. */
export function pacslinkExport(
  target: ExportTarget,
  study: BenchStudy,
  orthanc: OrthancPeer,
  api: PacslinkApi,
  events: TransferEvents,
): Scenario {
  return {
    name: target.name,
    kind: target.kind,
    target: target.target,
    study,
    prepare: () => deleteStudyFromOrthanc(orthanc, study.studyInstanceUid),
    run: () => exportStudy(api, events, target.pacsConfigId, study),
    verify: () => expectStudyComplete(orthanc, study.studyInstanceUid, study.files.length),
  };
}
