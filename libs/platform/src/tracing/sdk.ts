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

/**
 * The SDK as the OTEL_* variables configure it: the exporter reads its endpoint, headers, protocol
 * and timeout, the batch processor its OTEL_BSP_* delays, the provider its OTEL_TRACES_SAMPLER
 * (default: parent-based, always on). W3C trace context and baggage are the propagators.
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
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Outgoing requests only inside a trace: DICOMweb requests run in a batch or an RPC's span;
      // background calls (the broker's management API at each scrape) would each start a trace.
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
        requireParentforOutgoingSpans: true,
      }),
      new UndiciInstrumentation({ requireParentforSpans: true }),
    ],
  });
  return provider;
}
