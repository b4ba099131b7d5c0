import type { ExportBatchRef } from '@pacslink/contracts';

const describe = (ref: ExportBatchRef) => `batch ${ref.batchId} (attempt ${ref.attempt})`;

/**
 * A report the broker would not confirm, even after the retries. The worker stops sending (its
 * lease cannot be renewed, and config-service would give the batch to another worker beside it)
 * and the delivery is not acked, so the batch is redelivered and claimed again.
 */
export class ReportNotConfirmedError extends Error {
  override readonly name = 'ReportNotConfirmedError';

  constructor(ref: ExportBatchRef, tries: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`a report of ${describe(ref)} was not confirmed after ${tries} tries: ${reason}`, { cause });
  }
}

/** The worker is shutting down before it claimed the batch: the delivery goes back unclaimed. */
export class WorkerStoppingError extends Error {
  override readonly name = 'WorkerStoppingError';

  constructor(ref: ExportBatchRef) {
    super(`worker shutting down: ${describe(ref)} not claimed, it goes back to the queue`);
  }
}
