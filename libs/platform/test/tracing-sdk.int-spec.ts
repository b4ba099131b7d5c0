import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DicomwebClient, type DicomwebEndpoint } from '@pacslink/dicomweb';
import {
  deleteStudyFromOrthanc,
  generateStudy,
  runDcmtk,
  startPeers,
  testEgressGuard,
  type GeneratedStudy,
  type PeerEndpoints,
} from '@pacslink/testing';
import { startSdk } from '../src/tracing/sdk';

// The SDK as a service starts it (instrumentations, URL redaction), exporting to memory: a DICOMweb
// request to a real Orthanc is a client span under the caller's span, and what the span records of
// its URL names neither the study nor the patient.
jest.setTimeout(120_000);

describe('the SDK: DICOMweb requests as client spans, URLs redacted', () => {
  const exporter = new InMemorySpanExporter();
  let provider: NodeTracerProvider;
  let peers: PeerEndpoints;
  let workDir: string;
  let study: GeneratedStudy;
  const client = new DicomwebClient({ egress: testEgressGuard() });

  beforeAll(async () => {
    provider = startSdk('tracing-sdk-test', exporter);
    peers = await startPeers();
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-tracing-sdk-'));
    study = await generateStudy(workDir, {
      series: 1,
      instancesPerSeries: 1,
      patient: { name: 'TRACED^PATIENT' },
    });
    const { orthanc } = peers;
    await runDcmtk('storescu', [
      '-aet',
      'STORESCU',
      '-aec',
      orthanc.aet,
      orthanc.host,
      String(orthanc.port),
      ...study.files,
    ]);
  });

  afterAll(async () => {
    await client.close();
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
    if (study) await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const endpointOf = (orthanc: PeerEndpoints['orthanc']): DicomwebEndpoint => ({
    url: orthanc.dicomWebUrl,
    auth: { method: 'basic', username: orthanc.user, password: orthanc.password },
    sourceAeTitle: 'PACSLINK',
    pacsAeTitle: orthanc.aet,
    timeoutMs: 10_000,
  });

  it('QIDO-RS for the study, filtered by patient name: one client span, no UID and no query in it', async () => {
    const { orthanc } = peers;
    const endpoint = endpointOf(orthanc);
    const parent = await trace.getTracer('test').startActiveSpan('batch', async (span) => {
      const found = await client.qido(endpoint, {
        level: 'series',
        studyInstanceUid: study.studyInstanceUid,
        filters: { PatientName: 'TRACED*' },
      });
      expect(found).toHaveLength(1);
      span.end();
      return span.spanContext();
    });
    await provider.forceFlush();

    const requests = exporter
      .getFinishedSpans()
      .filter(
        (span) =>
          span.spanContext().traceId === parent.traceId && span.parentSpanContext?.spanId === parent.spanId,
      );
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request.attributes['http.request.method']).toBe('GET');
    expect(request.attributes['url.full']).toBe(
      `${new URL(orthanc.dicomWebUrl).origin}${new URL(orthanc.dicomWebUrl).pathname.replace(/\/$/, '')}/studies/{uid}/series`,
    );
    const recorded = JSON.stringify(exporter.getFinishedSpans().map((span) => [span.name, span.attributes]));
    expect(recorded).not.toContain(study.studyInstanceUid);
    expect(recorded).not.toContain('TRACED');
    expect(recorded).not.toContain(orthanc.password);
  });

  it('a request outside any trace (a background call) is no span: it would start a trace of its own', async () => {
    exporter.reset();
    await client.qido(endpointOf(peers.orthanc), {
      level: 'studies',
      studyInstanceUid: study.studyInstanceUid,
    });
    await provider.forceFlush();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
