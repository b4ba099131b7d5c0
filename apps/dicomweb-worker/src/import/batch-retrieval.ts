import { Readable } from 'node:stream';
import type { ImportBatchData, InstanceOutcomeData } from '@pacslink/contracts';
import { DicomwebError, DicomwebErrorCode, type PartHandler, type ResourceRequest } from '@pacslink/dicomweb';
import type { BatchRunControl } from '@pacslink/export-batch';
import { InvalidDicomError, type StoredInstance } from '@pacslink/store';
import { NotInBatchError, onlyBatchMembers } from './batch-member-guard';
import { retrieveRequests, type RetrieveRequest } from './retrieve-requests';

/** WADO-RS GETs of one batch at once: instance-level ones are small; each holds ≤ 256 KiB buffered. */
export const PARALLEL_REQUESTS = 4;

/**
 * How long an answer may stay open once every instance it was asked for is stored. Orthanc 1.10 /
 * DICOMweb plugin 1.7 now and then stops before its close delimiter under a slow reader and keeps
 * the connection open (libs/dicomweb README, "Known server behaviour"): nothing is missing then,
 * and waiting the endpoint's whole timeout for it would fail a batch that has everything.
 */
export const COMPLETE_ANSWER_GRACE_MS = 2_000;

/**
 * Parts of a series' answer that the study store cannot read and that name no SOP Instance UID,
 * while instances of the series did not arrive: which part was which cannot be told, so the batch
 * fails transient (a retry asks again; a retry of single instances tells them apart).
 */
export class UnreadablePartsError extends Error {
  override readonly name = 'UnreadablePartsError';
}

export interface BatchRetrievalDependencies {
  /** One WADO-RS GET with the batch's endpoint (DicomwebClient.retrieveResource). */
  retrieve(request: ResourceRequest, handle: PartHandler): Promise<{ parts: number }>;
  /** The study store's ingest path (StudyStore.write). */
  write(part: Readable): Promise<StoredInstance>;
  /** Said when a part is dropped or an answer closed early; never patient data. */
  note(message: string, facts: Record<string, unknown>): void;
  /** The endpoint's timeoutMs: the grace never outlasts it. */
  timeoutMs: number;
  /** Transfer syntaxes asked for, most wanted first (STORABLE_TRANSFER_SYNTAXES). */
  acceptTransferSyntaxes: readonly string[];
}

/**
 * Retrieves an import batch into the study store: one WADO-RS GET per whole series, one per other
 * instance, PARALLEL_REQUESTS at a time; each part streamed through onlyBatchMembers into the store
 * (the answer is read only as fast as the store writes) and reported as soon as it is stored.
 * An instance the answer to its GET does not hold is a failure outcome. Once `signal` is aborted,
 * no GET starts and those in flight stop after the instance they are storing; then it rejects.
 */
export async function retrieveBatch(
  dependencies: BatchRetrievalDependencies,
  batch: Pick<ImportBatchData, 'studyInstanceUid' | 'instances' | 'wholeSeries'>,
  run: Pick<BatchRunControl, 'outcome'>,
  signal: AbortSignal,
): Promise<void> {
  const inBatch = new Set(batch.instances.map((instance) => instance.sopInstanceUid));
  const reported = new Set<string>();
  const report = (outcome: InstanceOutcomeData, bytes?: number) => {
    if (reported.has(outcome.sopInstanceUid)) return;
    reported.add(outcome.sopInstanceUid);
    run.outcome(outcome, bytes);
  };
  // Aborted by the caller, or by the first GET that fails: the others stop at an instance boundary.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const queue = retrieveRequests(batch);
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let request = queue.shift(); request !== undefined; request = queue.shift()) {
      if (stop.signal.aborted) return;
      try {
        await retrieveOne(dependencies, batch.studyInstanceUid, request, { inBatch, report }, stop.signal);
      } catch (error) {
        failure ??= { error };
        stop.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(PARALLEL_REQUESTS, queue.length) }, worker));
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined && !signal.aborted) throw failure.error;
  if (signal.aborted) {
    throw new DicomwebError(
      DicomwebErrorCode.Aborted,
      `the import batch was stopped after ${reported.size} of ${inBatch.size} instances`,
    );
  }
}

interface BatchBook {
  inBatch: ReadonlySet<string>;
  report(outcome: InstanceOutcomeData, bytes?: number): void;
}

async function retrieveOne(
  dependencies: BatchRetrievalDependencies,
  studyInstanceUid: string,
  request: RetrieveRequest,
  book: BatchBook,
  stop: AbortSignal,
): Promise<void> {
  const expected = new Set(request.expected);
  const arrived = new Set<string>();
  const unreadable: string[] = [];
  const what = request.sopInstanceUid === undefined ? `series ${request.seriesInstanceUid}` : 'instance';
  // Aborts the GET: the batch stops (between parts only), or the answer stays open once complete.
  const abortGet = new AbortController();
  let inPart = false;
  let closedEarly = false;
  let grace: NodeJS.Timeout | undefined;
  const onStop = () => {
    if (!inPart) abortGet.abort();
  };
  stop.addEventListener('abort', onStop, { once: true });

  const handle: PartHandler = async (body) => {
    inPart = true;
    try {
      const stored = await dependencies.write(
        Readable.from(
          onlyBatchMembers(body, (uid) => book.inBatch.has(uid)),
          { objectMode: false },
        ),
      );
      arrived.add(stored.sopInstanceUid);
      book.report(
        { sopInstanceUid: stored.sopInstanceUid, status: 'success', path: stored.path },
        stored.sizeBytes,
      );
    } catch (error) {
      // The answer broke off inside this part (the store removed what it had written).
      if (error instanceof DicomwebError) throw error;
      if (error instanceof NotInBatchError) {
        dependencies.note('import: an instance the batch does not name was not kept', {
          sopInstanceUid: error.sopInstanceUid,
          request: what,
        });
        return;
      }
      // Anything else (the volume full, an I/O error) fails the batch: a later attempt may succeed.
      if (!(error instanceof InvalidDicomError)) throw error;
      // An answer to an instance GET can only be that instance.
      const uid = error.sopInstanceUid ?? request.sopInstanceUid;
      if (uid !== undefined && book.inBatch.has(uid)) {
        arrived.add(uid);
        book.report({
          sopInstanceUid: uid,
          status: 'failure',
          reason: `the PACS sent it, but the study store refuses it: ${error.message}`,
        });
      } else if (uid === undefined) {
        unreadable.push(error.message);
      }
    } finally {
      inPart = false;
      if (stop.aborted) abortGet.abort();
      else if (grace === undefined && request.expected.every((uid) => arrived.has(uid))) {
        grace = setTimeout(
          () => {
            closedEarly = true;
            abortGet.abort();
          },
          Math.min(COMPLETE_ANSWER_GRACE_MS, dependencies.timeoutMs),
        );
      }
    }
  };

  try {
    await dependencies.retrieve(
      {
        studyInstanceUid,
        seriesInstanceUid: request.seriesInstanceUid,
        sopInstanceUid: request.sopInstanceUid,
        acceptTransferSyntaxes: dependencies.acceptTransferSyntaxes,
        signal: abortGet.signal,
      },
      handle,
    );
  } catch (error) {
    if (request.sopInstanceUid !== undefined && isGone(error)) {
      // One instance gone since the plan (the answer for a whole series or study would be the batch's).
      book.report({
        sopInstanceUid: request.sopInstanceUid,
        status: 'failure',
        reason: `the PACS did not return it: ${(error as Error).message}`,
      });
      return;
    }
    if (!closedEarly || stop.aborted) throw error;
    dependencies.note('import: a WADO-RS answer stayed open after every instance asked for; closed', {
      request: what,
      instances: expected.size,
      graceMs: Math.min(COMPLETE_ANSWER_GRACE_MS, dependencies.timeoutMs),
    });
  } finally {
    clearTimeout(grace);
    stop.removeEventListener('abort', onStop);
  }

  const missing = request.expected.filter((uid) => !arrived.has(uid));
  if (missing.length > 0 && unreadable.length > 0) {
    throw new UnreadablePartsError(
      `${unreadable.length} part(s) of the WADO-RS answer for ${what} of study ${studyInstanceUid} are not ` +
        `DICOM the study store can read and name no SOP Instance UID (${unreadable[0]}); ` +
        `${missing.length} of its instances not stored`,
    );
  }
  for (const uid of missing) {
    book.report({
      sopInstanceUid: uid,
      status: 'failure',
      reason: `the PACS did not return it: the WADO-RS answer for ${what} does not hold it`,
    });
  }
}

/** A WADO-RS GET answered 404 / 410: what it asked for is not (or no longer) on the PACS. */
function isGone(error: unknown): boolean {
  return error instanceof DicomwebError && error.code === DicomwebErrorCode.StudyNotFound;
}
