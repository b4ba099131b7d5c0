import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { startPeers, testEgressGuard, type PeerEndpoints, freePort } from '@pacslink/testing';
import { echo, type DimseConnectionOptions } from '../src';

// One client span per association (tracing, issue 14), against DCMTK storescp and a closed port;
// the spans in an in-memory exporter.
const VERIFICATION = '1.2.840.10008.1.1';

describe('an association is a span', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let peers: PeerEndpoints;

  beforeAll(async () => {
    provider.register();
    peers = await startPeers();
  });

  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  function options(port: number, calledAeTitle: string): DimseConnectionOptions {
    return {
      host: '127.0.0.1',
      port,
      callingAeTitle: 'PACSLINK',
      calledAeTitle,
      connectTimeoutMs: 5_000,
      associationTimeoutMs: 5_000,
      pduTimeoutMs: 5_000,
      egress: testEgressGuard(),
    };
  }

  it('from the request to the close, under the active span, with AE titles and the peer address', async () => {
    const { storescp } = peers;
    const parent = await trace.getTracer('test').startActiveSpan('batch', async (span) => {
      await echo(options(storescp.port, storescp.aet));
      span.end();
      return span.spanContext();
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [association] = exporter.getFinishedSpans().filter((span) => span.name === 'DICOM association');
    expect(association.kind).toBe(SpanKind.CLIENT);
    expect(association.spanContext().traceId).toBe(parent.traceId);
    expect(association.parentSpanContext?.spanId).toBe(parent.spanId);
    expect(association.status.code).toBe(SpanStatusCode.UNSET);
    expect(association.attributes).toEqual({
      'server.address': '127.0.0.1',
      'server.port': storescp.port,
      'network.transport': 'tcp',
      'network.peer.address': '127.0.0.1',
      'network.peer.port': storescp.port,
      'pacslink.dicom.calling_ae_title': 'PACSLINK',
      'pacslink.dicom.called_ae_title': storescp.aet,
      'pacslink.dicom.abstract_syntax': VERIFICATION,
      'pacslink.dicom.presentation_contexts': 1,
    });
  });

  it('a peer that cannot be reached: the span failed with the failure kind', async () => {
    exporter.reset();
    await expect(echo(options(await freePort(), 'NOBODY'))).rejects.toThrow();
    const [association] = exporter.getFinishedSpans().filter((span) => span.name === 'DICOM association');
    expect(association.status.code).toBe(SpanStatusCode.ERROR);
    expect(association.attributes['error.type']).toBe('socket-error');
  });
});
