import { Injectable, Logger } from '@nestjs/common';
import { StudyEvents, type StorageScpReceivedData } from '@pacslink/contracts';
import { Inbox, Outbox, OutboxRelay } from '@pacslink/messaging';
import { StudyStore, type StoredInstance as StoredInstanceFile } from '@pacslink/store';
import { rm } from 'node:fs/promises';
import { LocalAeTitlesService } from '../local-ae-titles/local-ae-titles.service';
import { StudiesRepository } from './studies.repository';

const INBOX_CONSUMER = 'storage-scp.received';

export interface ReceivedOutcome {
  indexed: number;
  /** paths the report named that are not (or no longer) a readable instance at that path */
  unreadable: number;
  /** studies announced (study.received); none when the report was handled before */
  studies: number;
  /** instances a C-MOVE of ours retrieved: indexed, not announced as received */
  retrieved: number;
}

/**
 * Indexes what dimse-worker's Storage SCP stored in one association and announces each study
 * once (study.received) — unless its instances came as the sub-operations of a C-MOVE that one of
 * our own AE titles asked for: that is a retrieve of ours, not a study a PACS pushed.
 * A C-MOVE another application asked for, with us as its destination, is announced like a push. The attributes come from the files, read here: a worker's report names
 * paths only (no patient data on the broker), and the index holds what the files hold.
 */
@Injectable()
export class ReceivedStudiesService {
  private readonly logger = new Logger(ReceivedStudiesService.name);

  constructor(
    private readonly store: StudyStore,
    private readonly repository: StudiesRepository,
    private readonly inbox: Inbox,
    private readonly outbox: Outbox,
    private readonly relay: OutboxRelay,
    private readonly localAeTitles: LocalAeTitlesService,
  ) {}

  async received(report: StorageScpReceivedData): Promise<ReceivedOutcome> {
    const files: StoredInstanceFile[] = [];
    for (const path of new Set(report.paths)) {
      try {
        files.push(await this.store.scan(path));
      } catch (error) {
        // Gone since (a newer push of the instance moved it, a DELETE of the study): nothing to index.
        this.logger.warn({
          msg: 'a received file is not indexed',
          associationId: report.associationId,
          path,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
    // Idempotent: indexing again replaces each row with the same one.
    const { stalePaths, refused } = await this.repository.indexInstances(files);
    const current = new Set(files.map((file) => file.path));
    for (const path of stalePaths.filter((stale) => !current.has(stale))) {
      await rm(this.store.absolutePath(path), { force: true });
    }
    for (const move of refused) {
      // As for an upload: the transfer's file stays where it was; the new copy goes.
      await rm(this.store.absolutePath(move.file.path), { force: true });
      this.logger.warn({
        msg: 'received instance not moved: a transfer holds its file',
        associationId: report.associationId,
        sopInstanceUid: move.file.sopInstanceUid,
        transferId: move.transferId,
      });
    }
    const refusedFiles = new Set(refused.map((move) => move.file));
    const indexed = files.filter((file) => !refusedFiles.has(file));
    const retrievedPaths = await this.retrievedByUs(report);
    const studies = byStudy(indexed.filter((file) => !retrievedPaths.has(file.path)));
    const announced = await this.inbox.once(INBOX_CONSUMER, report.associationId, async (manager) => {
      for (const [studyInstanceUid, instances] of studies) {
        await this.outbox.enqueue(manager, StudyEvents.Received, {
          studyInstanceUid,
          pacsConfigId: report.pacsConfigId,
          pacsAeTitle: report.pacsAeTitle,
          instances: instances.length,
          series: new Set(instances.map((file) => file.seriesInstanceUid)).size,
          associationId: report.associationId,
        });
      }
    });
    if (announced) this.relay.wake();
    const outcome = {
      indexed: indexed.length,
      unreadable: report.paths.length - files.length,
      studies: announced ? studies.size : 0,
      retrieved: indexed.filter((file) => retrievedPaths.has(file.path)).length,
    };
    this.logger.log({
      msg: 'studies received by the Storage SCP indexed',
      associationId: report.associationId,
      pacsConfigId: report.pacsConfigId,
      ...outcome,
    });
    return outcome;
  }

  /** The paths that C-MOVEs asked for by one of our local AE titles delivered. */
  private async retrievedByUs(report: StorageScpReceivedData): Promise<Set<string>> {
    const paths = new Set<string>();
    for (const move of report.moves ?? []) {
      if (await this.localAeTitles.exists(move.moveOriginatorAeTitle)) {
        for (const path of move.paths) paths.add(path);
      }
    }
    return paths;
  }
}

function byStudy(files: readonly StoredInstanceFile[]): Map<string, StoredInstanceFile[]> {
  const studies = new Map<string, StoredInstanceFile[]>();
  for (const file of files) {
    const instances = studies.get(file.studyInstanceUid) ?? [];
    instances.push(file);
    studies.set(file.studyInstanceUid, instances);
  }
  return studies;
}
