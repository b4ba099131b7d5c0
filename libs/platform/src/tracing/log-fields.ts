import { isSpanContextValid, trace } from '@opentelemetry/api';

/**
 * The active span's ids for a log line (pino's `mixin`): a log line and its trace meet on
 * `trace_id`. Without tracing there is never an active span, and the line gets nothing.
 */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
