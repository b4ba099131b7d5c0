import { Injectable, Logger } from '@nestjs/common';
import { StudyEvents, type StorageScpReceivedData } from '@pacslink/contracts';
import { Inbox, Outbox, OutboxRelay } from '@pacslink/messaging';
import type { StoredInstance as StoredInstanceFile } from '@pacslink/store';
import { LocalAeTitlesService } from '../local-ae-titles/local-ae-titles.service';
import { RetrievedInstancesHub } from './retrieved-instances';
import { StudyFilesIndexer } from './study-files-indexer';

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
 * A C-MOVE another application asked for, with us as its destination, is announced like a push.
 * Ours are handed to the import that asked for them (RetrievedInstancesHub) before the report is
 * acknowledged. The attributes come from the files (StudyFilesIndexer).
 */
@Injectable()
export class ReceivedStudiesService {
  private readonly logger = new Logger(ReceivedStudiesService.name);

  constructor(
    private readonly indexer: StudyFilesIndexer,
    private readonly retrieved: RetrievedInstancesHub,
    private readonly inbox: Inbox,
    private readonly outbox: Outbox,
    private readonly relay: OutboxRelay,
    private readonly localAeTitles: LocalAeTitlesService,
  ) {}

  async received(report: StorageScpReceivedData): Promise<ReceivedOutcome> {
    const context = { associationId: report.associationId };
    const files = await this.indexer.scan(report.paths, context);
    const indexed = await this.indexer.index(files, context);
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
    // Ours: recorded as the outcomes of the import that asked for them (the transfers feature).
    await this.retrieved.publish({
      pacsConfigId: report.pacsConfigId,
      files: indexed.filter((file) => retrievedPaths.has(file.path)),
    });
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
