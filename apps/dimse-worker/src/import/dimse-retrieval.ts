import type { Readable } from 'node:stream';
import type { DimseImportBatchData, ImportInstanceData, SubOperationCountsData } from '@pacslink/contracts';
import { COMMON_STORAGE_SOP_CLASSES, part10Chunks } from '@pacslink/dicom';
import {
  get,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
  move,
  type DimseConnectionOptions,
  type RetrievedInstance,
  type RetrieveResult,
  type SinkResult,
} from '@pacslink/dimse';
import type { BatchRunControl, BatchRunResult } from '@pacslink/export-batch';
import { InvalidDicomError, STORABLE_TRANSFER_SYNTAXES, type StudyStore } from '@pacslink/store';
import { DurableOutcomes } from './durable-outcomes';
import { moveFallbackReason } from './import-failure';
import { retrieveRequests, type RetrieveRequest } from './retrieve-requests';

/** PS3.8 9.3.2.2: the odd context ids one association has for storage after the C-GET's own. */
const MAX_STORAGE_CONTEXTS = 127;
/** PS3.4 B.2.3 */
const STATUS_SUCCESS = 0x0000;
const STATUS_OUT_OF_RESOURCES = 0xa700;
const STATUS_CANNOT_UNDERSTAND = 0xc000;

/**
 * One run of a DIMSE retrieve batch: C-GET (the data sets stream into the study store as their
 * sub-operations arrive, each reported stored with its path) or C-MOVE (the PACS sends them to our
 * Storage SCP; the run reports the PACS's counts), C-MOVE taking over from a C-GET that is not
 * possible when the batch allows it (docs/decisions/0008-import.md).
 */
export class DimseRetrieval {
  private readonly wanted: ReadonlyMap<string, ImportInstanceData>;
  /** Instances with an outcome: stored, or failed as the PACS or the store said. */
  private readonly settled = new Set<string>();
  private readonly durable: DurableOutcomes;

  constructor(
    private readonly batch: DimseImportBatchData,
    private readonly connection: DimseConnectionOptions,
    private readonly studyStore: StudyStore,
    private readonly run: BatchRunControl,
    private readonly signal: AbortSignal,
  ) {
    this.wanted = new Map(batch.instances.map((instance) => [instance.sopInstanceUid, instance]));
    this.durable = new DurableOutcomes(studyStore, run);
  }

  async retrieve(): Promise<BatchRunResult> {
    if (this.batch.operation === 'C-MOVE') return this.moveAll();
    try {
      return await this.getAll();
    } catch (error) {
      const reason =
        this.batch.moveOnGetFailure && !this.signal.aborted ? moveFallbackReason(error) : undefined;
      if (reason === undefined) throw error;
      this.run.fallback('C-MOVE', reason);
      return this.moveAll();
    }
  }

  private requests(): RetrieveRequest[] {
    const { studyInstanceUid, instances, wholeSeries } = this.batch;
    return retrieveRequests(studyInstanceUid, instances, wholeSeries, this.settled);
  }

  private async getAll(): Promise<BatchRunResult> {
    const counts = { completed: 0, failed: 0, warning: 0 };
    for (const request of this.requests()) {
      this.signal.throwIfAborted();
      const result = await this.getOne(request);
      addCounts(counts, result);
      this.failedByPacs(result.failedSopInstanceUids, 'C-GET');
    }
    // Completed, and still not here: the PACS did not send it (it no longer holds it, say).
    for (const instance of this.batch.instances) {
      if (this.settled.has(instance.sopInstanceUid)) continue;
      this.failed(instance.sopInstanceUid, 'the PACS completed the C-GET without sending this instance');
    }
    return { subOperations: counts };
  }

  /** One C-GET; a store that fails (a full disk) stops it with C-CANCEL, and fails the run. */
  private async getOne(request: RetrieveRequest): Promise<RetrieveResult> {
    const stop = new AbortController();
    const forward = (): void => stop.abort(this.signal.reason);
    this.signal.addEventListener('abort', forward, { once: true });
    let storeFailure: unknown;
    let result: RetrieveResult;
    try {
      result = await get(this.connection, request.query, {
        ...storageContextsFor(request.instances),
        signal: stop.signal,
        sink: async (instance, dataSet) => {
          const answer = await this.store(instance, dataSet);
          if ('failure' in answer) {
            storeFailure ??= answer.failure;
            stop.abort(answer.failure);
            return { status: STATUS_OUT_OF_RESOURCES, errorComment: 'not stored: the study store failed' };
          }
          return answer;
        },
      });
    } catch (error) {
      // What is stored is reported before the run stops or C-MOVE takes over: it is not fetched again.
      await this.durable.flush();
      throw storeFailure ?? error;
    } finally {
      this.signal.removeEventListener('abort', forward);
    }
    await this.durable.flush();
    return result;
  }

  /** One C-GET sub-operation's data set into the study store, unless the batch does not want it. */
  private async store(
    instance: RetrievedInstance,
    dataSet: Readable,
  ): Promise<SinkResult | { failure: unknown }> {
    const { sopInstanceUid } = instance;
    if (!this.wanted.has(sopInstanceUid) || this.settled.has(sopInstanceUid)) {
      // Not kept, and answered success: the PACS did its part, and a failure would fail its count.
      dataSet.destroy();
      return { status: STATUS_SUCCESS };
    }
    try {
      const stored = await this.studyStore.write(
        // Chunks, not a stream: the store only iterates them (as the Storage SCP hands them over).
        part10Chunks(
          {
            ...instance,
            implementationClassUid: IMPLEMENTATION_CLASS_UID,
            implementationVersionName: IMPLEMENTATION_VERSION_NAME,
            sourceAeTitle: this.connection.calledAeTitle,
          },
          dataSet,
        ),
        { syncFile: false },
      );
      this.settled.add(sopInstanceUid);
      await this.durable.stored(sopInstanceUid, stored.path, stored.sizeBytes);
      return { status: STATUS_SUCCESS };
    } catch (error) {
      dataSet.destroy();
      if (!(error instanceof InvalidDicomError)) return { failure: error };
      // What the PACS sent is not a data set the store can keep: that instance fails, the rest goes on.
      this.failed(sopInstanceUid, `not stored: ${error.message}`);
      return { status: STATUS_CANNOT_UNDERSTAND, errorComment: error.message.slice(0, 64) };
    }
  }

  /**
   * C-MOVE of what has no outcome yet to moveDestinationAeTitle: the instances arrive through the
   * Storage SCP, whose report config-service matches; this run reports only what the PACS says
   * failed, and its counts.
   */
  private async moveAll(): Promise<BatchRunResult> {
    const counts = { completed: 0, failed: 0, warning: 0 };
    for (const request of this.requests()) {
      this.signal.throwIfAborted();
      const result = await move(this.connection, request.query, {
        destinationAeTitle: this.batch.moveDestinationAeTitle,
        signal: this.signal,
      });
      addCounts(counts, result);
      this.failedByPacs(result.failedSopInstanceUids, 'C-MOVE');
    }
    return { subOperations: counts };
  }

  private failedByPacs(uids: readonly string[], command: 'C-GET' | 'C-MOVE'): void {
    for (const uid of uids) {
      if (this.wanted.has(uid) && !this.settled.has(uid)) {
        this.failed(uid, `the PACS reported its C-STORE sub-operation of the ${command} failed`);
      }
    }
  }

  private failed(sopInstanceUid: string, reason: string): void {
    this.settled.add(sopInstanceUid);
    this.run.outcome({ sopInstanceUid, status: 'failure', reason });
  }
}

function addCounts(counts: SubOperationCountsData, result: RetrieveResult): void {
  counts.completed += result.completed;
  counts.failed += result.failed;
  counts.warning += result.warning;
}

/**
 * The storage SOP classes of the instances a request brings, each in every transfer syntax the
 * store keeps (the PACS sends an instance as it holds it, never transcoded); with many SOP classes
 * the syntaxes are cut to what fits one association, uncompressed first. An instance whose class
 * the PACS did not say (no SOPClassUID in its C-FIND answer) adds the common storage classes.
 */
export function storageContextsFor(instances: readonly ImportInstanceData[]): {
  storageSopClasses: string[];
  transferSyntaxes: string[];
} {
  const known = instances.flatMap((instance) => (instance.sopClassUid ? [instance.sopClassUid] : []));
  const unknown = known.length < instances.length ? COMMON_STORAGE_SOP_CLASSES : [];
  const storageSopClasses = [...new Set([...known, ...unknown])];
  const fit = Math.max(1, Math.floor(MAX_STORAGE_CONTEXTS / storageSopClasses.length));
  return { storageSopClasses, transferSyntaxes: STORABLE_TRANSFER_SYNTAXES.slice(0, fit) };
}
