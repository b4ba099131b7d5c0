import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTestDatabase,
  createTestVhost,
  eventually,
  generateStudy,
  startPeers,
  testEgressEnv,
  uploadToStudyStore,
  type GeneratedStudy,
  type PeerEndpoints,
  type TestDatabase,
  type TestVhost,
} from '@pacslink/testing';
import { newApiKey } from './config-service.harness';
import { OtlpKind, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver';
import { startServiceProcess, type ServiceProcess } from './service-process.harness';

// Tracing (issue 14) through the running services, each its own process exporting to a test
// OTLP/HTTP receiver: one export transfer is one trace from config-service's HTTP request through
// the outbox, RabbitMQ and dimse-worker to the PACS association, back through the reports, and on to
// mwl-mpps-service, which hears transfer.completed; each service's log lines carry its trace id.
jest.setTimeout(180_000);

describe('one export transfer is one trace across config-service, dimse-worker and mwl-mpps-service', () => {
  let receiver: OtlpReceiver;
  let peers: PeerEndpoints;
  let database: TestDatabase;
  let vhost: TestVhost;
  let workDir: string;
  let study: GeneratedStudy;
  let config: ServiceProcess;
  const processes: ServiceProcess[] = [];
  const apiKey = newApiKey();
  let workerEnv: Record<string, string>;
  let pacsConfigId: string;

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Record<string, unknown>> => {
    const response = await fetch(`${config.baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (response.status >= 300)
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };

  beforeAll(async () => {
    [receiver, peers, database, vhost] = await Promise.all([
      startOtlpReceiver(),
      startPeers(),
      createTestDatabase(),
      createTestVhost(),
    ]);
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-tracing-'));
    const storeDir = join(workDir, 'store');
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      // The test's POSTs continue traces of its own (as behind a gateway that starts them).
      OTEL_PROPAGATE_FROM_CLIENTS: 'true',
    };
    config = await startServiceProcess('config-service', {
      DATABASE_URL: database.url,
      AMQP_URL: vhost.url,
      API_KEYS: apiKey,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      STORE_DIR: storeDir,
      ...otel,
    });
    processes.push(config);
    workerEnv = { AMQP_URL: vhost.url, STORE_DIR: storeDir, ...testEgressEnv(), ...otel };
    processes.push(
      await startServiceProcess('dimse-worker', workerEnv),
      await startServiceProcess('mwl-mpps-service', {
        DATABASE_URL: database.url,
        AMQP_URL: vhost.url,
        ...testEgressEnv(),
        ...otel,
      }),
    );
    await call('PUT', '/settings', { allowTransfer: true, defaultCallingAeTitle: 'PACSLINK' });
    study = await generateStudy(join(workDir, 'generated'), { series: 1, instancesPerSeries: 2 });
    expect((await uploadToStudyStore(config.baseUrl, apiKey, study.files)).status).toBe(200);
    const { storescp } = peers;
    const pacs = await call('POST', '/pacs-configs', {
      type: 'dimse',
      name: 'traced PACS',
      aeTitle: storescp.aet,
      host: storescp.host,
      port: storescp.port,
      cStore: true,
      // mwl-mpps-service asks for the completion of an export to a PACS with MPPS (and logs it).
      mpps: true,
      maxAssociations: 1,
    });
    pacsConfigId = pacs.id as string;
  });

  afterAll(async () => {
    for (const process of processes.reverse()) await process.stop();
    await Promise.all([database?.drop(), vhost?.drop(), receiver?.close()]);
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('HTTP request -> outbox publish -> worker consume -> batch -> association -> report consume -> transfer.completed -> mwl-mpps-service, one trace id, in every log line of the work', async () => {
    const { storescp } = peers;
    const transfer = await call('POST', '/transfers', {
      direction: 'export',
      pacsConfigId,
      studyInstanceUid: study.studyInstanceUid,
    });
    const transferId = transfer.id as string;
    await eventually('the transfer to complete', async () =>
      (await call('GET', `/transfers/${transferId}`)).status === 'completed' ? true : undefined,
    );

    const batch = await eventually('the batch span', () =>
      receiver.spans.find((span) => span.attributes['pacslink.transfer.id'] === transferId),
    );
    const { traceId } = batch;
    const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
    const one = (what: string, match: (span: ReceivedSpan) => boolean) =>
      eventually(what, () => {
        const found = inTrace().filter(match);
        return found.length > 0 ? found : undefined;
      });
    const parentIs = (parents: ReceivedSpan[]) => (span: ReceivedSpan) =>
      parents.some((parent) => parent.spanId === span.parentSpanId);
    const of = (service: string, kind: number) => (span: ReceivedSpan) =>
      span.service === service && span.kind === kind;

    // config-service: the request, and the command published from the outbox under it.
    const [request] = await one('the HTTP server span', of('config-service', OtlpKind.Server));
    expect(request.parentSpanId).toBeUndefined();
    const commands = await one(
      'the command published from the outbox',
      (span) =>
        of('config-service', OtlpKind.Producer)(span) &&
        span.attributes['messaging.destination.name'] === 'pacslink.commands' &&
        parentIs([request])(span),
    );
    expect(commands[0].attributes).toMatchObject({ 'messaging.system': 'rabbitmq' });
    // dimse-worker: the command consumed, the batch, the association with the PACS, the reports.
    const consumed = await one(
      'the worker consuming the command',
      (span) => of('dimse-worker', OtlpKind.Consumer)(span) && parentIs(commands)(span),
    );
    expect(parentIs(consumed)(batch)).toBe(true);
    expect(batch.attributes).toMatchObject({
      'pacslink.transfer.direction': 'export',
      'pacslink.batch.attempt': 1,
    });
    const [association] = await one(
      'the association with the PACS',
      (span) => of('dimse-worker', OtlpKind.Client)(span) && parentIs([batch])(span),
    );
    expect(association.name).toBe('DICOM association');
    expect(association.attributes).toMatchObject({
      'pacslink.dicom.called_ae_title': storescp.aet,
      'pacslink.dicom.calling_ae_title': 'PACSLINK',
      'network.peer.port': storescp.port,
    });
    const reports = await one(
      'the reports published',
      (span) => of('dimse-worker', OtlpKind.Producer)(span) && parentIs([batch])(span),
    );
    // config-service again: the reports consumed, transfer.completed published from its outbox.
    const reported = await one(
      'config-service consuming a report',
      (span) => of('config-service', OtlpKind.Consumer)(span) && parentIs(reports)(span),
    );
    const completed = await one(
      'transfer.completed published',
      (span) =>
        of('config-service', OtlpKind.Producer)(span) &&
        span.attributes['messaging.rabbitmq.destination.routing_key'] === 'transfer.completed' &&
        parentIs(reported)(span),
    );
    // mwl-mpps-service: the event consumed, in the same trace.
    await one(
      'mwl-mpps-service consuming transfer.completed',
      (span) => of('mwl-mpps-service', OtlpKind.Consumer)(span) && parentIs(completed)(span),
    );

    // Every span of this transfer is in this one trace.
    const ofTransfer = receiver.spans.filter(
      (span) => span.attributes['pacslink.transfer.id'] === transferId,
    );
    expect(new Set(ofTransfer.map((span) => span.traceId))).toEqual(new Set([traceId]));
    // Nothing that identifies the study (its UIDs) or the patient in any span.
    const values = JSON.stringify(receiver.spans.map((span) => [span.name, span.attributes]));
    for (const secret of [study.studyInstanceUid, study.accessionNumber, study.patient.name ?? '']) {
      if (secret !== '') expect(values).not.toContain(secret);
    }
    expect(receiver.rejected).toEqual([]);

    // The log lines of the work carry its trace id, in each service.
    const untraced = processes.filter((service) => !service.logs.some((line) => line.trace_id === traceId));
    if (untraced.length) for (const p of untraced) console.log(p.app, JSON.stringify(p.logs.slice(-12)));
    expect(untraced.map((service) => service.app)).toEqual([]);
  });

  it('a batch dispatched by another transfer’s report is in the trace of the request that made its own transfer', async () => {
    // No worker yet, and one association at a time: the first transfer's batch waits in the queue,
    // the second's in the database until the first one's report frees the association.
    const worker = processes.find((service) => service.app === 'dimse-worker');
    await worker?.stop();
    // Each POST continues a trace of the test's own (W3C traceparent, sampled).
    const traceIds = [randomBytes(16).toString('hex'), randomBytes(16).toString('hex')];
    const transferIds: string[] = [];
    for (const traceId of traceIds) {
      const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
      const body = {
        direction: 'export',
        pacsConfigId,
        studyInstanceUid: study.studyInstanceUid,
      };
      transferIds.push((await call('POST', '/transfers', body, { traceparent })).id as string);
    }
    processes.push(await startServiceProcess('dimse-worker', workerEnv));
    for (const [index, transferId] of transferIds.entries()) {
      await eventually('the transfer to complete', async () =>
        (await call('GET', `/transfers/${transferId}`)).status === 'completed' ? true : undefined,
      );
      const batch = await eventually('the batch span', () =>
        receiver.spans.find((span) => span.attributes['pacslink.transfer.id'] === transferId),
      );
      expect(batch.traceId).toBe(traceIds[index]);
    }
  });
});
