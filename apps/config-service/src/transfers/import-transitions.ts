import type { ImportInstanceData, TransferMethod } from '@pacslink/contracts';
import { decideFinished, type BatchSnapshot, type RunRef } from './batch-transitions';
import type { BatchLimits } from './batch-plan';
import { BATCH_LIMITS } from './batch-plan';

/**
 * What an import's reports do to it, as pure decisions (ADR 0008), beside batch-transitions.ts
 * (any batch) and transfer-transitions.ts (a transfer). TransferReportsService and ImportReports
 * load the batch (locked), ask here, and write the answer.
 */

/** The reason an instance the index already held is a success without a retrieve. */
export const ALREADY_STORED = 'already in the study store';
/** The reason of an instance a C-GET or WADO-RS run ended without (ADR 0008, "Who counts"). */
export const NOT_SENT = 'the PACS did not send it';

type FinishedReport = RunRef & { failure?: { transient: boolean; reason: string } };

export type PlanDecision =
  | { kind: 'ignore' }
  | { kind: 'record' }
  | { kind: 'fail-transfer'; reason: string }
  | { kind: 'retry-later'; reason: string }
  /** The PACS listed what it holds: instances, then retrieve batches. */
  | { kind: 'plan'; manifest: readonly ImportInstanceData[] };

/**
 * The end of a plan run. Failures and stale runs as for any batch (decideFinished); a run that ended well without a manifest is a failed attempt; an empty one
 * fails the transfer: there is nothing to import, and asking again will not change that.
 */
export function decidePlanFinished(
  batch: BatchSnapshot,
  report: FinishedReport & { manifest?: readonly ImportInstanceData[] },
  what: { studyInstanceUid: string; seriesInstanceUid: string | null },
): PlanDecision {
  // The plan is the batch's one thing to answer: unanswered until a manifest comes.
  const verdict = decideFinished(batch, report, 1);
  // 'done' cannot come: one thing stays unanswered.
  if (verdict.kind === 'done') return { kind: 'ignore' };
  if (verdict.kind !== 'retry-later' || report.failure !== undefined) return verdict;
  if (report.manifest === undefined) {
    return { kind: 'retry-later', reason: 'the worker ended the plan without listing the study' };
  }
  if (report.manifest.length === 0) {
    const of = what.seriesInstanceUid
      ? `series ${what.seriesInstanceUid} of study ${what.studyInstanceUid}`
      : `study ${what.studyInstanceUid}`;
    return { kind: 'fail-transfer', reason: `the PACS holds no instance of ${of}` };
  }
  return { kind: 'plan', manifest: report.manifest };
}

export interface RetrievalPlan {
  /** Every instance of the import, once each (the manifest may name one twice), by series. */
  instances: ImportInstanceData[];
  /** Those the study store's index already holds: successes at once, retrieved by nobody. */
  held: ImportInstanceData[];
  /** The rest, cut into retrieve batches. */
  batches: ImportInstanceData[][];
}

/**
 * The instances of a plan's manifest (only the asked-for series' when the import names one) and
 * their retrieve batches: about one batch per slot (`parallelism`), by count (sizes are not known
 * before the files exist), never more than `limits.maxInstances`. A series that fits in one such
 * batch is not cut (the worker retrieves it with one request, `wholeSeries`); a bigger one is cut
 * into batches of its own.
 */
export function planRetrieval(
  manifest: readonly ImportInstanceData[],
  held: ReadonlySet<string>,
  parallelism: number,
  seriesInstanceUid: string | null,
  limits: Pick<BatchLimits, 'maxInstances'> = BATCH_LIMITS,
): RetrievalPlan {
  const unique = new Map<string, ImportInstanceData>();
  for (const instance of manifest) {
    if (seriesInstanceUid !== null && instance.seriesInstanceUid !== seriesInstanceUid) continue;
    if (!unique.has(instance.sopInstanceUid)) unique.set(instance.sopInstanceUid, instance);
  }
  const instances = [...unique.values()].sort(
    (a, b) =>
      compare(a.seriesInstanceUid, b.seriesInstanceUid) || compare(a.sopInstanceUid, b.sopInstanceUid),
  );
  const wanted = instances.filter((i) => !held.has(i.sopInstanceUid));
  const target = Math.max(
    1,
    Math.min(limits.maxInstances, Math.ceil(wanted.length / Math.max(1, parallelism))),
  );
  const batches: ImportInstanceData[][] = [];
  let current: ImportInstanceData[] = [];
  const close = () => {
    if (current.length > 0) batches.push(current);
    current = [];
  };
  for (const series of bySeries(wanted)) {
    if (current.length + series.length > target) close();
    if (series.length <= target) {
      current.push(...series);
      continue;
    }
    for (let at = 0; at < series.length; at += target) {
      current.push(...series.slice(at, at + target));
      close();
    }
  }
  close();
  return { instances, held: instances.filter((i) => held.has(i.sopInstanceUid)), batches };
}

export type RetrieveDecision =
  | { kind: 'ignore' }
  | { kind: 'record' }
  | { kind: 'fail-transfer'; reason: string }
  | { kind: 'retry-later'; reason: string }
  | { kind: 'done' }
  /** A C-MOVE ended well: its instances come through the Storage SCP; the batch waits for them. */
  | { kind: 'await-arrivals' }
  /** A C-GET or WADO-RS run ended well without some instances: they failed (NOT_SENT). */
  | { kind: 'fail-missing'; unanswered: number };

/**
 * The end of a retrieve run, once its outcomes are recorded; `unanswered` is how many of the
 * batch's instances still have none, `method` the transfer's (after a fallback reported in this
 * run). A run that failed goes as any batch's (permanent: the transfer fails; transient: the batch
 * goes again for what is missing). A run that ended well: after C-MOVE the instances still missing
 * are on their way to the Storage SCP; after C-GET or WADO-RS the PACS did not send them, which
 * asking again would most likely repeat: they fail, and POST /retry asks for them again.
 */
export function decideRetrieveFinished(
  batch: BatchSnapshot,
  report: FinishedReport,
  state: { unanswered: number; method: TransferMethod },
): RetrieveDecision {
  if (batch.awaitingArrivals && batch.attempt === report.attempt) return { kind: 'record' };
  const verdict = decideFinished(batch, report, state.unanswered);
  if (verdict.kind !== 'retry-later' || report.failure !== undefined) return verdict;
  return state.method === 'C-MOVE'
    ? { kind: 'await-arrivals' }
    : { kind: 'fail-missing', unanswered: state.unanswered };
}

export type ArrivalDecision =
  /** Not a batch waiting for arrivals: the outcomes are recorded, nothing more. */
  | { kind: 'none' }
  /** Still waiting for some: the lease runs on from this arrival. */
  | { kind: 'renew' }
  /** Everything the batch names has arrived: done. */
  | { kind: 'done' };

/** A C-MOVE's instances arrived for a batch (`unanswered`: how many of its instances still have no outcome). */
export function decideArrival(
  batch: Pick<BatchSnapshot, 'state' | 'awaitingArrivals'>,
  unanswered: number,
): ArrivalDecision {
  if (batch.state !== 'running' || !batch.awaitingArrivals) return { kind: 'none' };
  return unanswered === 0 ? { kind: 'done' } : { kind: 'renew' };
}

/** What a reported file holds against what the batch asked for: undefined when it is the instance. */
export function fileMismatch(
  asked: { sopInstanceUid: string; studyInstanceUid: string },
  file: { sopInstanceUid: string; studyInstanceUid: string },
): string | undefined {
  if (file.sopInstanceUid !== asked.sopInstanceUid) {
    return `the PACS sent instance ${file.sopInstanceUid} for ${asked.sopInstanceUid}`;
  }
  if (file.studyInstanceUid !== asked.studyInstanceUid) {
    return `the PACS sent the instance in study ${file.studyInstanceUid}, not ${asked.studyInstanceUid}`;
  }
  return undefined;
}

function bySeries(instances: readonly ImportInstanceData[]): ImportInstanceData[][] {
  const series: ImportInstanceData[][] = [];
  for (const instance of instances) {
    const last = series.at(-1);
    if (last?.[0].seriesInstanceUid === instance.seriesInstanceUid) last.push(instance);
    else series.push([instance]);
  }
  return series;
}

/** Byte order, as Postgres's COLLATE "C" sorts the batches' instances. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
