import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  ConsumerQueues,
  DimseCallerRequests,
  MppsCompletionRequests,
  Exchanges,
  ExportBatchReports,
  ImportBatchCommands,
  StorageScpReports,
  type DicomwebImportBatchData,
  type DicomwebImportPlanData,
  type ExportBatchFinishedData,
} from '@pacslink/contracts';
import { ConfirmedPublisher, MessageConsumer, MessagingModule, createEnvelope } from '@pacslink/messaging';
import { loadEnv, runService } from '@pacslink/platform';
import { SecretCipher } from '@pacslink/secrets';
import {
  TcpProxy,
  baseUrlOf,
  createTestVhost,
  deleteStudyFromOrthanc,
  eventually,
  generateStudy,
  runDcmtk,
  startPeers,
  testEgressEnv,
  waitUntilReady,
  type GeneratedInstance,
  type GeneratedStudy,
  type PeerEndpoints,
  type TestVhost,
} from '@pacslink/testing';
import { AppModule } from '../src/app.module';
import { DICOMWEB_WORKER, DicomwebWorkerEnv } from '../src/config';

// Import over DICOMweb end to end on the worker's side: the built-in worker (AppModule) on a real
// broker, a real Orthanc (1.10.1, DICOMweb plugin 1.7, HTTP Basic) holding studies put in with DCMTK
// storescu, the real StudyStore in a temp dir. The test plays config-service: it seals the password,
// sends the plan and retrieve commands, answers the claims and reads the reports.
jest.setTimeout(240_000);

const key = randomBytes(32);
const cipher = new SecretCipher(key);
const rowId = randomUUID();
let peers: PeerEndpoints;
let vhost: TestVhost;
let worker: INestApplication;
let client: TestingModule;
let storeDir: string;
let workDir: string;
let study: GeneratedStudy;
const generated: GeneratedStudy[] = [];
const finished: ExportBatchFinishedData[] = [];

async function putInOrthanc(files: readonly string[]): Promise<void> {
  const { aet, host, port } = peers.orthanc;
  await runDcmtk('storescu', ['-aet', 'STORESCU', '-aec', aet, host, String(port), ...files]);
}

/** The DICOMweb target as config-service sends it: the password sealed for this URL's origin. */
function target(url = peers.orthanc.dicomWebUrl, password = peers.orthanc.password) {
  return {
    url,
    pacsAeTitle: peers.orthanc.aet,
    sourceAeTitle: 'PACSLINK',
    timeoutMs: 30_000,
    auth: {
      method: 'basic' as const,
      username: peers.orthanc.user,
      secretContextId: rowId,
      sealedSecret: cipher.encrypt(password, {
        table: 'pacs_config',
        rowId,
        field: 'password',
        destination: new URL(url).origin,
      }),
    },
  };
}

const batchRef = () => ({ transferId: randomUUID(), batchId: randomUUID(), attempt: 1 });

async function runCommand<T extends object>(
  contract: typeof ImportBatchCommands.DicomwebPlan | typeof ImportBatchCommands.Dicomweb,
  data: T & { batchId: string; attempt: number },
): Promise<ExportBatchFinishedData> {
  await client.get(ConfirmedPublisher).publish(Exchanges.Commands, createEnvelope(contract, data as never));
  return eventually(
    `the finished report of batch ${data.batchId}`,
    () => finished.find((report) => report.batchId === data.batchId && report.attempt === data.attempt),
    120_000,
  );
}

const plan = (studyInstanceUid: string, extra: Partial<DicomwebImportPlanData> = {}) =>
  runCommand(ImportBatchCommands.DicomwebPlan, {
    ...batchRef(),
    studyInstanceUid,
    target: target(),
    ...extra,
  });

function retrieveBatch(
  instances: readonly GeneratedInstance[],
  wholeSeries: string[],
  extra: Partial<DicomwebImportBatchData> = {},
  of: GeneratedStudy = study,
): DicomwebImportBatchData {
  return {
    ...batchRef(),
    studyInstanceUid: of.studyInstanceUid,
    instances: instances.map((instance) => ({
      sopInstanceUid: instance.sopInstanceUid,
      sopClassUid: instance.sopClassUid,
      seriesInstanceUid: of.series.find((series) => series.instances.includes(instance))
        ?.seriesInstanceUid as string,
    })),
    wholeSeries,
    target: target(),
    ...extra,
  };
}

const retrieve = (batch: DicomwebImportBatchData) => runCommand(ImportBatchCommands.Dicomweb, batch);

/** The data set of a Part 10 file: Orthanc writes its own File Meta group (storescu sent none). */
function datasetOf(file: Buffer): Buffer {
  expect(file.toString('latin1', 128, 132)).toBe('DICM');
  return file.subarray(144 + file.readUInt32LE(140));
}

async function expectStoredAsPut(
  report: ExportBatchFinishedData,
  instances: readonly GeneratedInstance[],
): Promise<void> {
  expect(report.outcomes.map((outcome) => outcome.sopInstanceUid).sort()).toEqual(
    instances.map((instance) => instance.sopInstanceUid).sort(),
  );
  for (const instance of instances) {
    const outcome = report.outcomes.find((one) => one.sopInstanceUid === instance.sopInstanceUid);
    expect(outcome).toMatchObject({ status: 'success', path: expect.any(String) as string });
    const stored = await readFile(join(storeDir, outcome?.path as string));
    expect(datasetOf(stored).equals(datasetOf(await readFile(instance.file)))).toBe(true);
  }
}

async function storedFiles(): Promise<string[]> {
  const entries = await readdir(join(storeDir, 'studies'), { recursive: true, withFileTypes: true }).catch(
    () => [],
  );
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

const temporaryFiles = async () => readdir(join(storeDir, 'tmp')).catch(() => []);

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-dicomweb-import-'));
  storeDir = join(workDir, 'store');
  study = await generateStudy(join(workDir, 'study'), { series: 3, instancesPerSeries: 3 });
  generated.push(study);
  await putInOrthanc(study.files);

  vhost = await createTestVhost();
  const env = loadEnv(DicomwebWorkerEnv, {
    AMQP_URL: vhost.url,
    LOG_LEVEL: 'silent',
    SECRETS_KEY: key.toString('base64'),
    STORE_DIR: storeDir,
    ...testEgressEnv(),
  });
  worker = await runService(AppModule.forRoot(env), { service: DICOMWEB_WORKER, port: 0 });
  expect((await waitUntilReady(baseUrlOf(worker))).status).toBe(200);

  client = await Test.createTestingModule({
    imports: [
      MessagingModule.forRoot({
        url: vhost.url,
        connectionName: 'test-as-config-service',
        consumerQueues: [ConsumerQueues.ConfigServiceReports],
      }),
    ],
  }).compile();
  const consumer = client.get(MessageConsumer);
  const queue = ConsumerQueues.ConfigServiceReports;
  consumer.answer(queue, ExportBatchReports.Claim, () => Promise.resolve({ go: true }));
  // Playing config-service means answering everything routed to its queue (the consumer checks).
  consumer.answer(queue, DimseCallerRequests.List, () => Promise.resolve({ callers: [] }));
  consumer.answer(queue, MppsCompletionRequests.Get, () =>
    Promise.resolve({ target: null, performedSeries: [] }),
  );
  consumer.on(queue, StorageScpReports.Received, () => Promise.resolve());
  consumer.on(queue, StorageScpReports.Refused, () => Promise.resolve());
  consumer.on(queue, ExportBatchReports.Progress, () => Promise.resolve());
  consumer.on(queue, ExportBatchReports.Finished, (data) => {
    finished.push(data);
    return Promise.resolve();
  });
  await client.init();
  await consumer.attached();
});

afterAll(async () => {
  await client?.close();
  await worker?.close();
  await vhost?.drop();
  for (const one of generated) await deleteStudyFromOrthanc(peers.orthanc, one.studyInstanceUid);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await rm(join(storeDir, 'studies'), { recursive: true, force: true });
});

describe('dicomweb.import-plan', () => {
  it('lists every instance of the study, series by series, as the manifest', async () => {
    const report = await plan(study.studyInstanceUid);
    expect(report.failure).toBeUndefined();
    const expected = study.series.flatMap((series) =>
      series.instances.map((instance) => ({
        sopInstanceUid: instance.sopInstanceUid,
        seriesInstanceUid: series.seriesInstanceUid,
        sopClassUid: instance.sopClassUid,
      })),
    );
    const byUid = (a: { sopInstanceUid: string }, b: { sopInstanceUid: string }) =>
      a.sopInstanceUid.localeCompare(b.sopInstanceUid);
    expect([...(report.manifest ?? [])].sort(byUid)).toEqual(expected.sort(byUid));
  });

  it('lists one series', async () => {
    const [, second] = study.series;
    const report = await plan(study.studyInstanceUid, { seriesInstanceUid: second.seriesInstanceUid });
    expect(report.manifest?.map((one) => one.sopInstanceUid).sort()).toEqual(
      second.instances.map((one) => one.sopInstanceUid).sort(),
    );
  });

  it('fails permanently, naming the study, when the PACS does not hold it', async () => {
    const report = await plan('1.2.826.0.1.3680043.10.99.1');
    expect(report.failure).toMatchObject({
      transient: false,
      code: 'STUDY_NOT_FOUND',
      reason: 'the PACS holds no study 1.2.826.0.1.3680043.10.99.1 (QIDO-RS finds none)',
    });
    expect(report.manifest).toBeUndefined();
  });

  it('fails permanently on a wrong password', async () => {
    const report = await plan(study.studyInstanceUid, { target: target(undefined, 'wrong-password') });
    expect(report.failure).toMatchObject({ transient: false, code: 'AUTHENTICATION_REJECTED' });
  });
});

describe('dicomweb.import-batch', () => {
  it('retrieves whole series and single instances into the study store, data sets byte for byte', async () => {
    const [first, second] = study.series;
    const wanted = [...first.instances, second.instances[0], second.instances[2]];
    const batch = retrieveBatch(wanted, [first.seriesInstanceUid]);
    const report = await retrieve(batch);
    expect(report.failure).toBeUndefined();
    await expectStoredAsPut(report, wanted);
    expect((await storedFiles()).sort()).toEqual(wanted.map((one) => `${one.sopInstanceUid}.dcm`).sort());
  });

  it('keeps no instance the batch does not name, though the series answer holds it', async () => {
    const [, , third] = study.series;
    const named = third.instances.slice(0, 2);
    const report = await retrieve(retrieveBatch(named, [third.seriesInstanceUid]));
    expect(report.failure).toBeUndefined();
    await expectStoredAsPut(report, named);
    expect(await storedFiles()).not.toContain(`${third.instances[2].sopInstanceUid}.dcm`);
    expect(await temporaryFiles()).toEqual([]);
  });

  it('an instance the PACS does not hold is a failure outcome; the others are stored', async () => {
    const [first] = study.series;
    const batch = retrieveBatch([first.instances[0]], []);
    const ghost = { ...batch.instances[0], sopInstanceUid: '1.2.826.0.1.3680043.10.99.2' };
    const report = await retrieve({ ...batch, instances: [...batch.instances, ghost] });
    expect(report.failure).toBeUndefined();
    expect(report.outcomes.find((one) => one.sopInstanceUid === ghost.sopInstanceUid)).toMatchObject({
      status: 'failure',
      reason: expect.stringContaining('the PACS did not return it') as string,
    });
    expect(
      report.outcomes.find((one) => one.sopInstanceUid === first.instances[0].sopInstanceUid)?.status,
    ).toBe('success');
  });

  it('fails permanently, naming the study, when the PACS does not hold it', async () => {
    const [first] = study.series;
    const batch = retrieveBatch(first.instances, [first.seriesInstanceUid]);
    const report = await retrieve({ ...batch, studyInstanceUid: '1.2.826.0.1.3680043.10.99.3' });
    expect(report.failure).toMatchObject({ transient: false, code: 'STUDY_NOT_FOUND' });
    expect(report.failure?.reason).toContain('of study 1.2.826.0.1.3680043.10.99.3');
    expect(report.outcomes).toEqual([]);
  });

  it('fails permanently on a wrong password, storing nothing', async () => {
    const [first] = study.series;
    const report = await retrieve(
      retrieveBatch(first.instances, [first.seriesInstanceUid], {
        target: target(undefined, 'wrong-password'),
      }),
    );
    expect(report.failure).toMatchObject({ transient: false, code: 'AUTHENTICATION_REJECTED' });
    expect(await storedFiles()).toEqual([]);
  });

  it('a PACS that goes away mid-way: transient, what was stored reported, nothing half-stored; then unreachable', async () => {
    const large = await generateStudy(join(workDir, 'large'), {
      series: 1,
      instancesPerSeries: 12,
      instanceBytes: 512 * 1024,
    });
    generated.push(large);
    await putInOrthanc(large.files);
    const orthanc = new URL(peers.orthanc.dicomWebUrl);
    // The cut lands in the middle of the answer: about half of the twelve instances pass, then no
    // byte more (blackhole) until one is stored, then the cut. Cutting as soon as the first one was
    // stored raced the rest of the answer on a fast machine.
    let answered = 0;
    const proxy: TcpProxy = await new TcpProxy(orthanc.hostname, Number(orthanc.port), {
      delayMs: 2,
      tapServer: (_connection, chunk) => {
        answered += chunk.length;
        if (answered > 3 * 1024 * 1024) proxy.blackhole();
      },
    }).start();
    try {
      const url = `http://127.0.0.1:${proxy.port}${orthanc.pathname}`;
      const [series] = large.series;
      const batch = retrieveBatch(
        series.instances,
        [series.seriesInstanceUid],
        { target: target(url) },
        large,
      );
      await client
        .get(ConfirmedPublisher)
        .publish(Exchanges.Commands, createEnvelope(ImportBatchCommands.Dicomweb, batch));
      await eventually('a first instance in the store', async () =>
        (await storedFiles()).length > 0 ? true : undefined,
      );
      await proxy.cut();
      const report = await eventually(
        'the finished report',
        () => finished.find((one) => one.batchId === batch.batchId),
        120_000,
      );
      // the PACS answered, then stopped: transient, and not a PACS the circuit should count as down
      expect(report.failure).toMatchObject({
        transient: true,
        code: 'RESPONSE_TRUNCATED',
        unreachable: false,
      });
      const stored = report.outcomes.filter((one) => one.status === 'success');
      expect(stored.length).toBeGreaterThan(0);
      expect(stored.length).toBeLessThan(12);
      expect(report.outcomes.every((one) => one.status === 'success')).toBe(true);
      expect((await storedFiles()).sort()).toEqual(stored.map((one) => `${one.sopInstanceUid}.dcm`).sort());
      expect(await temporaryFiles()).toEqual([]);
      // the batch again while the PACS is gone: transient, and counted toward its circuit
      const again = await retrieve({ ...batch, attempt: 2 });
      expect(again.failure).toMatchObject({ transient: true, code: 'CONNECTION_REFUSED', unreachable: true });
    } finally {
      await proxy.close();
    }
  });
});
