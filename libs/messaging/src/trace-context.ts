import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';

/**
 * The trace context a message carries (W3C `traceparent`, `tracestate`, `baggage` headers), so
 * that the work a message causes joins the trace of the work that sent it. Without tracing the
 * propagator is the API's no-op: nothing is written, nothing read, and every span is a no-op.
 */
export type TraceCarrier = Record<string, string>;

const tracer = () => trace.getTracer('@pacslink/messaging');

/** The active trace context as headers; empty without tracing (or outside any span). */
export function traceHeaders(from: Context = context.active()): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(from, carrier);
  return carrier;
}

/** The active trace context to keep in a row (the outbox's, a transfer's); null without tracing. */
export function activeTraceCarrier(): TraceCarrier | null {
  const carrier = traceHeaders();
  return Object.keys(carrier).length > 0 ? carrier : null;
}

/** The trace context of received headers (AMQP headers, or what the outbox stored). */
export function traceContextOf(headers: Record<string, unknown> | null | undefined): Context {
  const carrier: TraceCarrier = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (typeof value === 'string') carrier[key] = value;
    else if (Buffer.isBuffer(value)) carrier[key] = value.toString('utf8');
  }
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** Messaging attributes of OpenTelemetry's semantic conventions, for RabbitMQ. */
export function messagingAttributes(
  operation: 'publish' | 'process',
  destination: string,
  routingKey: string,
  messageId: string | undefined,
): Attributes {
  return {
    'messaging.system': 'rabbitmq',
    'messaging.operation.name': operation,
    'messaging.operation.type': operation === 'publish' ? 'send' : 'process',
    'messaging.destination.name': destination,
    'messaging.rabbitmq.destination.routing_key': routingKey,
    ...(messageId !== undefined ? { 'messaging.message.id': messageId } : {}),
  };
}

/** Runs `work` in a span of `kind` under `parent`, ended when the work settles; a rejection marks it failed. */
export async function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  parent: Context,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(name, { kind, attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Marks `span` failed with the error's type only: an error's message may quote what a PACS
 * answered, which can name the patient, and no exporter is trusted with that.
 */
export function markFailed(span: Span | undefined, error: unknown): void {
  span?.setStatus({ code: SpanStatusCode.ERROR });
  span?.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
}

export { SpanKind };
