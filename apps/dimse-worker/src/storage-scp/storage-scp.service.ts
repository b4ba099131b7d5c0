import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  MAX_INSTANCES_PER_ASSOCIATION,
  StorageScpReports,
  type StorageScpMoveSubOperations,
} from '@pacslink/contracts';
import { part10Chunks } from '@pacslink/dicom';
import {
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
  StorageScp,
  type AssociationSummary,
  type IncomingInstance,
  type ScpAssociationInfo,
  type StoreResult,
} from '@pacslink/dimse';
import { ConfirmedPublisher, createEnvelope } from '@pacslink/messaging';
import {
  FileTooLargeError,
  type FileSyncGroup,
  InvalidDicomError,
  STORABLE_TRANSFER_SYNTAXES,
  StudyStore,
} from '@pacslink/store';
import type { Readable } from 'node:stream';
import type { ScpDurability } from '../config';
import { DimseCallersCache } from './dimse-callers.cache';
import { RefusalReporter } from './refusal-reporter';

export interface StorageScpSettings {
  aeTitle: string;
  /** 0: any free port (tests); the port taken is logged */
  port: number;
  maxAssociations: number;
  maxAssociationsPerPeer: number;
  /** SCP_MAX_INSTANCE_BYTES */
  maxInstanceBytes: number;
  /** SCP_DURABILITY */
  durability: ScpDurability;
}

export const STORAGE_SCP_SETTINGS = Symbol('STORAGE_SCP_SETTINGS');

/** PS3.8 9.1.5: the wait for an A-ASSOCIATE-RQ on a new connection, and for the close after release. */
const ARTIM_TIMEOUT_MS = 30_000;
/** A peer silent this long inside an association is aborted (a modality between images is not). */
const IDLE_TIMEOUT_MS = 120_000;
/** One PDU is what one association holds in memory while its data set streams to disk. */
const MAX_PDU_LENGTH = 256 * 1024;
/** How long associations in progress may go on once the worker is told to stop. */
const SHUTDOWN_GRACE_MS = 10_000;

/** PS3.4 Table B.2-1 */
const STATUS_SUCCESS = 0x0000;
const STATUS_OUT_OF_RESOURCES = 0xa700;
const STATUS_CANNOT_UNDERSTAND = 0xc000;

interface Received {
  paths: string[];
  /** C-MOVE sub-operations among `paths`, by move (originator AE title and message ID) */
  moves: Map<string, StorageScpMoveSubOperations>;
  writing: Set<Promise<StoreResult>>;
  /**
   * What was answered from the page cache (every file under SCP_DURABILITY=association, a C-MOVE's
   * sub-operations under either), each fsynced in the background from its write on.
   */
  syncing?: FileSyncGroup;
  /** `syncing` made durable, once (at the release, or when it ended otherwise). */
  durable?: Promise<void>;
}

/** Files a C-MOVE's sub-operations stored are grouped by the move that sent them (PS3.7 9.1.1.1). */
function recordMoveSubOperation(received: Received, instance: IncomingInstance, path: string): void {
  const aeTitle = instance.moveOriginator?.aeTitle;
  if (aeTitle === undefined) return;
  const messageId = instance.moveOriginator?.messageId;
  const key = `${aeTitle}\u0000${messageId ?? ''}`;
  let move = received.moves.get(key);
  if (move === undefined) {
    move = {
      moveOriginatorAeTitle: aeTitle,
      ...(messageId === undefined ? {} : { moveOriginatorMessageId: messageId }),
      paths: [],
    };
    received.moves.set(key, move);
  }
  move.paths.push(path);
}

/**
 * The Storage SCP on SCP_AE_TITLE/SCP_PORT: configured DIMSE PACS (and modalities configured as
 * such) push studies here; each data set streams into the study store as it arrives.
 */
@Injectable()
export class StorageScpService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('StorageScp');
  private readonly scp: StorageScp;
  /** Per association (our id): what it stored, reported when it ends, and the writes still going. */
  private readonly received = new Map<string, Received>();

  constructor(
    @Inject(STORAGE_SCP_SETTINGS) private readonly settings: StorageScpSettings,
    @Inject(StudyStore) private readonly studyStore: StudyStore,
    private readonly callers: DimseCallersCache,
    private readonly publisher: ConfirmedPublisher,
    private readonly refusals: RefusalReporter,
  ) {
    this.scp = new StorageScp({
      aeTitle: settings.aeTitle,
      port: settings.port,
      maxAssociations: settings.maxAssociations,
      maxAssociationsPerCaller: settings.maxAssociationsPerPeer,
      artimTimeoutMs: ARTIM_TIMEOUT_MS,
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      maxPduLength: MAX_PDU_LENGTH,
      storageTransferSyntaxes: STORABLE_TRANSFER_SYNTAXES,
      identifyCaller: (callingAeTitle) => this.callers.identify(callingAeTitle),
      store: (association, instance, dataSet) => {
        const received = this.receivedBy(association.id);
        const writing = this.store(association, received, instance, dataSet);
        received.writing.add(writing);
        return writing.finally(() => received.writing.delete(writing));
      },
      beforeRelease: (association) => this.beforeRelease(association),
      associationEnded: (summary) => void this.report(summary),
      refused: (refusal) => this.refusals.refused(refusal),
      logger: {
        debug: (entry) => this.logger.debug(entry),
        warn: (entry) => this.logger.warn(entry),
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const address = await this.scp.listen();
    this.logger.log({ msg: 'Storage SCP listening', aeTitle: this.settings.aeTitle, port: address.port });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.scp.close(SHUTDOWN_GRACE_MS);
    await this.studyStore.dropSpare();
  }

  private receivedBy(associationId: string): Received {
    let received = this.received.get(associationId);
    if (received === undefined) {
      received = { paths: [], moves: new Map(), writing: new Set() };
      this.received.set(associationId, received);
    }
    return received;
  }

  private async store(
    association: ScpAssociationInfo,
    received: Received,
    instance: IncomingInstance,
    dataSet: Readable,
  ): Promise<StoreResult> {
    if (received.paths.length >= MAX_INSTANCES_PER_ASSOCIATION) {
      return {
        status: STATUS_OUT_OF_RESOURCES,
        errorComment: `${MAX_INSTANCES_PER_ASSOCIATION} instances per association: send the rest on another`,
      };
    }
    // A C-MOVE's sub-operation is a copy its source keeps (PS3.4 C.4.2), unlike a push whose
    // sender may delete once answered: it is answered from the page cache whatever SCP_DURABILITY
    // says, and made durable with the association's files, before the release and the report.
    const durableEach = this.settings.durability === 'instance' && instance.moveOriginator === undefined;
    try {
      const written = await this.studyStore.write(
        // Chunks, not a stream: the store only iterates them (a Readable around them cost 0.03 ms).
        part10Chunks(
          {
            ...instance,
            implementationClassUid: IMPLEMENTATION_CLASS_UID,
            implementationVersionName: IMPLEMENTATION_VERSION_NAME,
            sourceAeTitle: association.callingAeTitle,
          },
          dataSet,
        ),
        {
          maxBytes: this.settings.maxInstanceBytes,
          // Else answered from the page cache; durable() makes it durable at the end.
          syncFile: durableEach,
        },
      );
      received.paths.push(written.path);
      if (!durableEach) {
        received.syncing ??= this.studyStore.syncGroup();
        received.syncing.add(written.path);
      }
      recordMoveSubOperation(received, instance, written.path);
      return { status: STATUS_SUCCESS };
    } catch (error) {
      dataSet.resume();
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn({
        msg: 'instance not stored',
        associationId: association.id,
        callingAeTitle: association.callingAeTitle,
        sopInstanceUid: instance.sopInstanceUid,
        reason: message,
      });
      // PS3.4 B.2.3: a data set we cannot read is 0xC000; anything else (size, disk) is ours, 0xA700.
      if (error instanceof FileTooLargeError) {
        return {
          status: STATUS_OUT_OF_RESOURCES,
          errorComment: `larger than SCP_MAX_INSTANCE_BYTES (${error.maxBytes}); not stored`,
        };
      }
      if (error instanceof InvalidDicomError)
        return { status: STATUS_CANNOT_UNDERSTAND, errorComment: message };
      return { status: STATUS_OUT_OF_RESOURCES, errorComment: `not stored: ${message}` };
    }
  }

  /**
   * The peer asks to release, so every C-STORE was answered: the files answered from the page
   * cache (fsynced in the background since each was written) are all made durable, with their
   * directories, before the A-RELEASE-RP tells it that they are ours. A failure rejects, and the
   * association is aborted instead: the peer sends again what it will not see released.
   */
  private async beforeRelease(association: ScpAssociationInfo): Promise<void> {
    const received = this.received.get(association.id);
    if (received?.syncing === undefined) return;
    try {
      await this.durable(received);
    } catch (error) {
      throw new Error(
        `what the association stored could not be made durable: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Every file of the association and its directory fsynced; the same promise at every call. */
  private async durable(received: Received): Promise<void> {
    await Promise.allSettled(received.writing);
    received.durable ??= received.syncing?.settle() ?? Promise.resolve();
    return received.durable;
  }

  /**
   * Tells config-service what the association stored, once it ended (released or not: each file
   * stored before an abort is whole); config-service indexes it and announces study.received.
   */
  private async report({ association, end }: AssociationSummary): Promise<void> {
    const received = this.received.get(association.id);
    this.received.delete(association.id);
    if (received === undefined) return;
    // A write whose data set was complete when the association ended still finishes.
    await Promise.allSettled(received.writing);
    const { paths } = received;
    if (paths.length === 0) return;
    if (received.syncing !== undefined) {
      // Released: made durable before the RP (a failure aborted it). Aborted or lost: whatever was
      // answered 0x0000 is made durable now and reported, as with per-instance durability.
      try {
        await this.durable(received);
      } catch (error) {
        // Not reported: the files stay in the store unindexed, as when a report cannot be
        // published; the peer saw no release, and what it sends again is written and reported anew.
        this.logger.error({
          msg: 'what an association stored could not be made durable: not reported',
          associationId: association.id,
          end: end.kind,
          stored: paths.length,
          reason: error instanceof Error ? error.message : String(error),
        });
        return;
      }
    }
    const moves = [...received.moves.values()];
    try {
      await this.publisher.publish(
        StorageScpReports.Received.exchange,
        createEnvelope(StorageScpReports.Received, {
          associationId: association.id,
          pacsConfigId: association.caller.id,
          pacsAeTitle: association.caller.aeTitle,
          callingAeTitle: association.callingAeTitle,
          paths,
          ...(moves.length > 0 ? { moves } : {}),
        }),
      );
      this.logger.log({
        msg: 'association ended',
        associationId: association.id,
        end: end.kind,
        stored: paths.length,
      });
    } catch (error) {
      // The files stay in the store, unindexed; a re-send by the PACS reports them again.
      this.logger.error({
        msg: 'what an association stored could not be reported to config-service',
        associationId: association.id,
        stored: paths.length,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
