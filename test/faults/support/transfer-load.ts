import { setTimeout as sleep } from 'node:timers/promises';
import type { StudyOptions } from '@pacslink/testing';
import type { CaseKit } from './case-kit';
import type { CaseTransfer } from './end-state';
import type { SuitePacs } from './suite-pacs';

export interface TransferLoad {
  /** Stops starting transfers; answers every transfer started and what went wrong starting one. */
  stop(): Promise<{ transfers: CaseTransfer[]; problems: string[] }>;
}

/**
 * Transfers that keep coming while a fault happens, as a hospital's do: every `intervalMs` a new
 * study is uploaded and exported to the next PACS in turn. Each transfer has a study of its own, so
 * that the probes can tell a batch sent twice from two transfers of one study.
 */
export function startTransferLoad(
  kit: CaseKit,
  pacs: readonly SuitePacs[],
  study: StudyOptions,
  intervalMs: number,
): TransferLoad {
  const transfers: CaseTransfer[] = [];
  const problems: string[] = [];
  let running = true;
  const loop = (async () => {
    for (let turn = 0; running; turn++) {
      try {
        transfers.push(await kit.export(pacs[turn % pacs.length], await kit.study(study)));
      } catch (error) {
        problems.push(`could not start a transfer: ${(error as Error).message}`);
      }
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { transfers, problems };
    },
  };
}
