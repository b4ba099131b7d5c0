import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { TransferDirection, TransferMethod } from '@pacslink/contracts';
import type { RunnableBatch } from './export-batch-runner';

/**
 * One span per batch run, under the consumer span of the command: the claim, the association(s)
 * or HTTP requests, and the reports are its children. Identifiers of our own only (transfer,
 * batch): never a study's UIDs or anything of the patient's. A no-op without tracing.
 */
export function inBatchSpan(
  batch: RunnableBatch,
  direction: TransferDirection,
  method: TransferMethod,
  work: (span: Span) => Promise<void>,
): Promise<void> {
  const attributes = {
    'pacslink.transfer.id': batch.transferId,
    'pacslink.transfer.direction': direction,
    'pacslink.transfer.method': method,
    'pacslink.batch.id': batch.batchId,
    'pacslink.batch.attempt': batch.attempt,
    ...(batch.instances ? { 'pacslink.batch.instances': batch.instances.length } : {}),
  };
  return trace
    .getTracer('@pacslink/export-batch')
    .startActiveSpan(`${direction} batch`, { attributes }, async (span) => {
      try {
        await work(span);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
        throw error;
      } finally {
        span.end();
      }
    });
}

/** How the run ended (completed, transient, permanent); a failed batch marks the span failed. */
export function recordBatchResult(span: Span, result: 'completed' | 'transient' | 'permanent'): void {
  span.setAttribute('pacslink.batch.result', result);
  if (result !== 'completed') span.setStatus({ code: SpanStatusCode.ERROR });
}
