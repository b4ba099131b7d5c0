import type { OrthancPeer } from '@pacslink/testing';
import type { Cleanup } from './cleanup';
import { log } from './log';
import type { Scenario } from './measure';
import type { MemoryContext } from './memory-section';
import type { Section } from './options';
import { PacslinkApi } from './pacslink-api';
import { pacslinkExport, type ExportTarget } from './pacslink-export';
import { startPacslink } from './pacslink-services';
import type { BenchStudy } from './studies';
import { TransferEvents } from './transfer-events';

export interface PacslinkSetupInput {
  workDir: string;
  cleanup: Cleanup;
  orthanc: OrthancPeer;
  /** Uploaded into the store once, before any timed run. */
  studies: readonly BenchStudy[];
  sections: ReadonlySet<Section>;
}

export type PacslinkSetup =
  | { error: string }
  | {
      context: Omit<MemoryContext, 'workDir' | 'shape'>;
      /** The selected export methods of one study (uploaded beforehand). */
      exportScenarios(study: BenchStudy): Scenario[];
    };

/**
 * Starts the four services and prepares what the timed runs need: transfers allowed, one PACS
 * configuration per export method, the studies in the store, and a queue on `pacslink.events`.
 * A failure is answered, not thrown, so that the baselines are still measured and reported.
 */
export async function setUpPacslink(input: PacslinkSetupInput): Promise<PacslinkSetup> {
  const { orthanc, sections } = input;
  try {
    const stack = await startPacslink(input.workDir, input.cleanup);
    const api = new PacslinkApi(stack.apiUrl);
    await api.allowTransfer();
    const targets: ExportTarget[] = [
      {
        name: 'pacslink C-STORE, maxAssociations 1',
        kind: 'cstore',
        pacsConfigId: await api.createDimseConfig(orthanc, 'BENCH-CSTORE-1', 1),
        target: 0.8,
      },
      {
        name: 'pacslink C-STORE, maxAssociations 4',
        kind: 'cstore',
        pacsConfigId: await api.createDimseConfig(orthanc, 'BENCH-CSTORE-4', 4),
      },
      {
        name: 'pacslink STOW-RS, multipart/related',
        kind: 'stow',
        pacsConfigId: await api.createDicomwebConfig(orthanc, 'BENCH-STOW'),
        target: 0.9,
      },
    ];
    const events = await TransferEvents.subscribe(stack.amqpUrl, input.cleanup);
    for (const study of input.studies) {
      log(`uploading ${study.shape.label} into pacslink's store (untimed)`);
      await api.uploadStudy(study);
    }
    return {
      context: { orthanc, stack, api, events, targets },
      exportScenarios: (study) =>
        targets
          .filter((target) => sections.has(target.kind))
          .map((target) => pacslinkExport(target, study, orthanc, api, events)),
    };
  } catch (error) {
    const message = (error as Error).message;
    log(`pacslink could not be set up: ${message}`);
    return { error: message };
  }
}
