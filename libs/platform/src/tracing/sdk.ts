import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { UrlRedactingSpanProcessor } from './redact-urls';

/** Probes and scrapes: a span per kubelet probe or Prometheus scrape would bury the transfers. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|\?|$)/;

/** The W3C context an HTTP caller may send: its trace id and sampled flag, vendor state, baggage. */
const CLIENT_CONTEXT_HEADERS = ['traceparent', 'tracestate', 'baggage'];

/**
 * Whether an incoming request's trace context is continued (OTEL_PROPAGATE_FROM_CLIENTS=true).
 * Off by default: the HTTP callers are API clients, not our services (those talk over RabbitMQ),
 * and a caller's `traceparent` would choose our trace ids (its spans and log lines in another's
 * trace) and, with the sampled flag, sampling (every request exported, whatever the sampler's
 * ratio); its `baggage` would travel on to the workers and the PACS. On for a trusted gateway in
 * front that starts or checks the traces.
 */
function propagatesFromClients(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.OTEL_PROPAGATE_FROM_CLIENTS?.trim().toLowerCase() === 'true';
}

/**
 * The SDK as the OTEL_* variables configure it: the exporter reads its endpoint, headers, protocol
 * and timeout, the batch processor its OTEL_BSP_* delays, the provider its OTEL_TRACES_SAMPLER
 * (default: parent-based, always on). W3C trace context and baggage are the propagators; an HTTP
 * caller's are dropped unless propagatesFromClients.
 * `exporter`: another exporter for a test.
 */
export function startSdk(
  service: string,
  exporter: SpanExporter = new OTLPTraceExporter(),
): NodeTracerProvider {
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const provider = new NodeTracerProvider({
    resource,
    // The redaction first: the batch processor must only ever hold redacted spans.
    spanProcessors: [new UrlRedactingSpanProcessor(), new BatchSpanProcessor(exporter)],
  });
  provider.register();
  const fromClients = propagatesFromClients();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Outgoing requests only inside a trace: DICOMweb requests run in a batch or an RPC's span;
      // background calls (the broker's management API at each scrape) would each start a trace.
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
        // The one hook that sees the request before the instrumentation extracts its context:
        // an untrusted caller's context headers are dropped there (the app never sees them either).
        startIncomingSpanHook: (request) => {
          if (!fromClients && 'headers' in request)
            for (const header of CLIENT_CONTEXT_HEADERS) delete request.headers[header];
          return {};
        },
        requireParentforOutgoingSpans: true,
      }),
      new UndiciInstrumentation({ requireParentforSpans: true }),
    ],
  });
  return provider;
}
