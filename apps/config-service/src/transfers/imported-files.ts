import { Injectable } from '@nestjs/common';
import type { InstanceOutcomeData } from '@pacslink/contracts';
import { StudyFilesIndexer } from '../studies/study-files-indexer';
import { fileMismatch } from './import-transitions';
import type { ImportOutcome } from './imports.repository';

/**
 * An import run's outcomes, made true to the study store before they are recorded: each reported
 * file is read and indexed through the studies feature (the index holds what the files hold), and
 * a stored outcome counts only for a file that is the instance asked for, in the import's study.
 * Runs outside the transfer's transaction: reading files takes time, and indexing is idempotent
 * (a redelivered report indexes the same rows again).
 */
@Injectable()
export class ImportedFiles {
  constructor(private readonly indexer: StudyFilesIndexer) {}

  async outcomesOf(
    report: { transferId: string; batchId: string; outcomes: readonly InstanceOutcomeData[] },
    studyInstanceUid: string,
  ): Promise<ImportOutcome[]> {
    const context = { transferId: report.transferId, batchId: report.batchId };
    const reported = report.outcomes.filter((o) => o.status !== 'failure' && o.path !== undefined);
    const files = await this.indexer.scan(
      reported.map((o) => o.path as string),
      context,
    );
    const byPath = new Map(files.map((file) => [file.path, file]));
    const outcomes: ImportOutcome[] = [];
    const toIndex: typeof files = [];
    for (const outcome of report.outcomes) {
      if (outcome.status === 'failure') {
        outcomes.push(outcome);
        continue;
      }
      const file = outcome.path === undefined ? undefined : byPath.get(outcome.path);
      if (file === undefined) {
        outcomes.push(
          failure(outcome, 'the worker reported it stored, but the study store holds no such file'),
        );
        continue;
      }
      const mismatch = fileMismatch({ sopInstanceUid: outcome.sopInstanceUid, studyInstanceUid }, file);
      if (mismatch !== undefined) {
        outcomes.push(failure(outcome, mismatch));
        continue;
      }
      toIndex.push(file);
      outcomes.push({
        sopInstanceUid: outcome.sopInstanceUid,
        status: outcome.status,
        ...(outcome.statusCode !== undefined ? { statusCode: outcome.statusCode } : {}),
        ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
        file: { transferSyntaxUid: file.transferSyntaxUid, sizeBytes: file.sizeBytes },
      });
    }
    const indexed = new Set((await this.indexer.index(toIndex, context)).map((file) => file.sopInstanceUid));
    return outcomes.map((outcome) =>
      outcome.file === undefined || indexed.has(outcome.sopInstanceUid)
        ? outcome
        : failure(outcome, 'not indexed: an active transfer of another study holds the instance'),
    );
  }
}

function failure(outcome: { sopInstanceUid: string }, reason: string): ImportOutcome {
  return { sopInstanceUid: outcome.sopInstanceUid, status: 'failure', reason };
}
