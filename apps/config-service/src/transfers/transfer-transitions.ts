import {
  TransferEvents,
  type MessageContract,
  type TransferEventData,
  type TransferStatus,
} from '@pacslink/contracts';
import type { TransferInstanceStatus } from './transfer-instance.entity';

/**
 * What happens to a transfer as its batches report, as pure decisions (batch-transitions.ts decides
 * for one batch, circuit-transitions.ts for a PACS). TransferLedger loads the transfer (locked),
 * asks here, and writes the answer with its events.
 */

/** At most about two progress events a second per transfer (issue 5). */
export const PROGRESS_EVENT_INTERVAL_MS = 500;

export type TerminalStatus = Extract<TransferStatus, 'completed' | 'failed' | 'cancelled'>;

export function isActive(status: TransferStatus): boolean {
  return status === 'queued' || status === 'running';
}

/** A transfer's counts: recomputed from its instances' outcomes, never incremented (a redelivered report counts nothing twice). */
export function countsOf(byStatus: Partial<Record<TransferInstanceStatus, number>>): {
  completed: number;
  warning: number;
  failed: number;
} {
  const warning = byStatus.warning ?? 0;
  return { completed: (byStatus.success ?? 0) + warning, warning, failed: byStatus.failure ?? 0 };
}

export type SettleDecision =
  /** Still active with a batch open, or already ended. */
  | { kind: 'none' }
  | { kind: 'complete' }
  /** Every batch closed without every instance accepted: failed, naming the refused ones. */
  | { kind: 'fail-naming-refusals' };

/** Once no batch of an active transfer is open: completed when the PACS accepted every instance. */
export function decideSettle(
  transfer: { status: TransferStatus; completed: number; total: number },
  openBatches: number,
): SettleDecision {
  if (!isActive(transfer.status) || openBatches > 0) return { kind: 'none' };
  return transfer.completed === transfer.total ? { kind: 'complete' } : { kind: 'fail-naming-refusals' };
}

/** Whether a running transfer's progress is due for a transfer.progress event (`now` in ms). */
export function progressDue(
  transfer: { status: TransferStatus; progressPublishedAt: Date | null },
  now: number,
): boolean {
  if (transfer.status !== 'running') return false;
  return now - (transfer.progressPublishedAt?.getTime() ?? 0) >= PROGRESS_EVENT_INTERVAL_MS;
}

/** The event that announces a transfer's end. */
export function finishedEvent(status: TerminalStatus): MessageContract<TransferEventData> {
  switch (status) {
    case 'completed':
      return TransferEvents.Completed;
    case 'failed':
      return TransferEvents.Failed;
    case 'cancelled':
      return TransferEvents.Cancelled;
  }
}

/**
 * A failed transfer's `error` when its batches ended without every instance accepted: the first
 * refused instances (`refused`, a few), how many more, and how many got no answer at all.
 */
export function describeRefusals(
  transfer: { id: string; total: number; completed: number; failed: number },
  refused: readonly { uid: string; reason: string | null }[],
): string {
  const unsent = transfer.total - transfer.completed - transfer.failed;
  const parts: string[] = [];
  if (transfer.failed > 0) {
    const named = refused.map((r) => `${r.uid} (${r.reason ?? 'no reason given'})`).join('; ');
    const more = transfer.failed > refused.length ? `; and ${transfer.failed - refused.length} more` : '';
    parts.push(`the PACS refused ${transfer.failed} of ${transfer.total} instances: ${named}${more}`);
  }
  if (unsent > 0) parts.push(`${unsent} of ${transfer.total} instances got no answer from the PACS`);
  return `${parts.join('; ')} — GET /api/v1/transfers/${transfer.id}/instances?status=failure lists them`;
}
