import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  ConsumerQueues,
  DimseCallerRequests,
  MppsCompletionRequests,
  ExportBatchReports,
  ImportBatchCommands,
  StorageScpReports,
  type DimseImportBatchData,
  type DimseImportPlanData,
  type ExportBatchFinishedData,
  type ExportBatchProgressData,
  type StorageScpReceivedData,
} from '@pacslink/contracts';
import { ConfirmedPublisher, MessageConsumer, MessagingModule, createEnvelope } from '@pacslink/messaging';
import { loadEnv, runService } from '@pacslink/platform';
import {
  baseUrlOf,
  createTestVhost,
  deleteStudyFromOrthanc,
  eventually,
  type GeneratedStudy,
  generateStudy,
  orthancRest,
  type PeerEndpoints,
  startPeers,
  storescu,
  testEgressEnv,
  type TestVhost,
  uniqueSuffix,
  waitUntilReady,
  freePort,
  type DcmtkPeer,
  startDcmqrscp,
} from '@pacslink/testing';
/* eslint-disable @nx/enforce-module-boundaries --
 * libs/dimse's test support: a free port, and the data set of a Part 10 file. Test code only. */
import { datasetBytes, datasetBytesOf } from '../../../libs/dimse/test/support/store-fixtures';
/* eslint-enable @nx/enforce-module-boundaries */
import { AppModule } from '../src/app.module';
import { DIMSE_WORKER, DimseWorkerEnv } from '../src/config';

// The dimse-worker on the real broker takes dimse.import-plan and dimse.import-batch commands: the
// test plays config-service (answers claims and the Storage SCP's callers, collects reports). The
// plan's manifest, a C-GET into the worker's STORE_DIR and a C-MOVE from Orthanc to the worker's
// own Storage SCP (registered in Orthanc as a modality for this test), whose report names the move.
jest.setTimeout(120_000);

const SCP_AE_TITLE = `IMP${uniqueSuffix().slice(-8).toUpperCase()}`;
const ORTHANC_CONFIG_ID = randomUUID();
const NOGET_CONFIG_ID = randomUUID();
/** A DCMTK dcmqrscp --disable-get: a PACS without C-GET. */
const NOGET_AE_TITLE = 'NOGET';

/** dcmqrscp --disable-get, which moves to the worker's Storage SCP (its HostTable names it). */
function startNoGetPacs(dir: string, scpPort: number): Promise<DcmtkPeer> {
  return startDcmqrscp(dir, NOGET_AE_TITLE, {
    extra: ['--disable-get'],
    moveDestinations: [{ aeTitle: SCP_AE_TITLE, port: scpPort }],
  });
}

describe('dimse-worker: import commands through the broker', () => {
  const modality = `pacslink-import-e2e-${uniqueSuffix()}`;
  let peers: PeerEndpoints;
  let vhost: TestVhost;
  let worker: INestApplication;
  let client: TestingModule;
  let publisher: ConfirmedPublisher;
  let workDir: string;
  let storeDir: string;
  let study: GeneratedStudy;
  let noGet: DcmtkPeer;
  const finished: ExportBatchFinishedData[] = [];
  const progress: ExportBatchProgressData[] = [];
  const received: StorageScpReceivedData[] = [];

  beforeAll(async () => {
    peers = await startPeers();
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-dimse-import-e2e-'));
    storeDir = join(workDir, 'store');
    study = await generateStudy(workDir, { series: 2, instancesPerSeries: 2 });
    await storescu(peers.orthanc, study.files);

    vhost = await createTestVhost();
    const scpPort = await freePort();
    noGet = await startNoGetPacs(join(workDir, 'dcmqrscp'), scpPort);
    await storescu({ aet: NOGET_AE_TITLE, host: '127.0.0.1', port: noGet.port }, study.files);
    const env = loadEnv(DimseWorkerEnv, {
      AMQP_URL: vhost.url,
      LOG_LEVEL: 'silent',
      STORE_DIR: storeDir,
      SCP_AE_TITLE,
      SCP_PORT: String(scpPort),
      ...testEgressEnv(),
    });
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
    consumer.answer(queue, DimseCallerRequests.List, () =>
      Promise.resolve({
        callers: [
          { pacsConfigId: ORTHANC_CONFIG_ID, aeTitle: peers.orthanc.aet },
          { pacsConfigId: NOGET_CONFIG_ID, aeTitle: NOGET_AE_TITLE },
        ],
      }),
    );
    consumer.answer(queue, MppsCompletionRequests.Get, () =>
      Promise.resolve({ target: null, performedSeries: [] }),
    );
    consumer.on(queue, StorageScpReports.Received, (data) => {
      received.push(data);
      return Promise.resolve();
    });
    consumer.on(queue, StorageScpReports.Refused, () => Promise.resolve());
    consumer.on(queue, ExportBatchReports.Progress, (data) => {
      progress.push(data);
      return Promise.resolve();
    });
    consumer.on(queue, ExportBatchReports.Finished, (data) => {
      finished.push(data);
      return Promise.resolve();
    });
    await client.init();
    await consumer.attached();
    publisher = client.get(ConfirmedPublisher);

    worker = await runService(AppModule.forRoot(env), { service: DIMSE_WORKER, port: 0 });
    expect((await waitUntilReady(baseUrlOf(worker))).status).toBe(200);
    await orthancRest(peers.orthanc, 'PUT', `/modalities/${modality}`, {
      AET: SCP_AE_TITLE,
      Host: '127.0.0.1',
      Port: scpPort,
    });
  });

  afterAll(async () => {
    if (peers) {
      await orthancRest(peers.orthanc, 'DELETE', `/modalities/${modality}`).catch(() => undefined);
      if (study) await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    }
    await worker?.close();
    await client?.close();
    await noGet?.stop();
    await vhost?.drop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  function target(callingAeTitle: string) {
    return {
      host: peers.orthanc.host,
      port: peers.orthanc.port,
      calledAeTitle: peers.orthanc.aet,
      callingAeTitle,
      timeoutMs: 20_000,
    };
  }

  function manifest() {
    return study.series.flatMap((series) =>
      series.instances.map((instance) => ({
        sopInstanceUid: instance.sopInstanceUid,
        seriesInstanceUid: series.seriesInstanceUid,
        sopClassUid: instance.sopClassUid,
      })),
    );
  }

  function finishedOf(batchId: string): Promise<ExportBatchFinishedData> {
    return eventually(`the finished report of batch ${batchId}`, () =>
      finished.find((report) => report.batchId === batchId),
    );
  }

  async function expectSameDataSet(stored: string, sopInstanceUid: string): Promise<void> {
    const source = study.series
      .flatMap((series) => series.instances)
      .find((instance) => instance.sopInstanceUid === sopInstanceUid);
    expect(
      datasetBytes(await readFile(join(storeDir, stored))).equals(await datasetBytesOf(source?.file ?? '')),
    ).toBe(true);
  }

  it('dimse.import-plan: the finished report carries the manifest of the study', async () => {
    const plan: DimseImportPlanData = {
      transferId: randomUUID(),
      batchId: randomUUID(),
      attempt: 1,
      studyInstanceUid: study.studyInstanceUid,
      target: target('FINDSCU'),
    };
    await publisher.publish(
      ImportBatchCommands.DimsePlan.exchange,
      createEnvelope(ImportBatchCommands.DimsePlan, plan),
    );
    const report = await finishedOf(plan.batchId);
    expect(report.failure).toBeUndefined();
    const byUid = (a: { sopInstanceUid: string }, b: { sopInstanceUid: string }) =>
      a.sopInstanceUid.localeCompare(b.sopInstanceUid);
    expect([...(report.manifest ?? [])].sort(byUid)).toEqual(manifest().sort(byUid));
  });

  it('dimse.import-batch C-GET: each instance stored in STORE_DIR and reported with its path', async () => {
    const [first] = study.series;
    const batch: DimseImportBatchData = {
      transferId: randomUUID(),
      batchId: randomUUID(),
      attempt: 1,
      studyInstanceUid: study.studyInstanceUid,
      instances: manifest().filter((i) => i.seriesInstanceUid === first.seriesInstanceUid),
      wholeSeries: [first.seriesInstanceUid],
      target: target('GETSCU'),
      operation: 'C-GET',
      moveOnGetFailure: true,
      moveDestinationAeTitle: SCP_AE_TITLE,
    };
    await publisher.publish(
      ImportBatchCommands.Dimse.exchange,
      createEnvelope(ImportBatchCommands.Dimse, batch),
    );
    const report = await finishedOf(batch.batchId);
    expect(report).toMatchObject({ subOperations: { completed: 2, failed: 0, warning: 0 } });
    expect(report.failure).toBeUndefined();
    expect(report.method).toBeUndefined();
    expect(report.outcomes.map((o) => o.sopInstanceUid).sort()).toEqual(
      batch.instances.map((i) => i.sopInstanceUid).sort(),
    );
    for (const outcome of report.outcomes) {
      expect(outcome.status).toBe('success');
      await expectSameDataSet(outcome.path ?? '', outcome.sopInstanceUid);
    }
  });

  it("dimse.import-batch C-MOVE to the worker's own Storage SCP: the counts, and the SCP's report names the move", async () => {
    const [, second] = study.series;
    const batch: DimseImportBatchData = {
      transferId: randomUUID(),
      batchId: randomUUID(),
      attempt: 1,
      studyInstanceUid: study.studyInstanceUid,
      instances: manifest().filter((i) => i.seriesInstanceUid === second.seriesInstanceUid),
      wholeSeries: [second.seriesInstanceUid],
      target: target('PACSLINK'),
      operation: 'C-MOVE',
      moveOnGetFailure: false,
      moveDestinationAeTitle: SCP_AE_TITLE,
    };
    await publisher.publish(
      ImportBatchCommands.Dimse.exchange,
      createEnvelope(ImportBatchCommands.Dimse, batch),
    );
    const report = await finishedOf(batch.batchId);
    expect(report).toMatchObject({ subOperations: { completed: 2, failed: 0, warning: 0 }, outcomes: [] });
    expect(report.failure).toBeUndefined();
    const arrival = await eventually('the Storage SCP report of the move', () =>
      received.find((data) => data.moves?.some((move) => move.moveOriginatorAeTitle === 'PACSLINK')),
    );
    expect(arrival).toMatchObject({ pacsConfigId: ORTHANC_CONFIG_ID, callingAeTitle: peers.orthanc.aet });
    const paths = arrival.moves?.flatMap((move) => move.paths) ?? [];
    expect(paths.sort()).toEqual(
      batch.instances
        .map((i) => `studies/${study.studyInstanceUid}/${i.seriesInstanceUid}/${i.sopInstanceUid}.dcm`)
        .sort(),
    );
    for (const instance of batch.instances) {
      await expectSameDataSet(
        `studies/${study.studyInstanceUid}/${instance.seriesInstanceUid}/${instance.sopInstanceUid}.dcm`,
        instance.sopInstanceUid,
      );
    }
    expect(progress.every((report) => report.batchId !== batch.batchId || report.outcomes.length === 0)).toBe(
      true,
    );
  });
  it('get-then-move from a PACS without C-GET: the report says C-MOVE and why, and the instances reach the Storage SCP', async () => {
    const batch: DimseImportBatchData = {
      transferId: randomUUID(),
      batchId: randomUUID(),
      attempt: 1,
      studyInstanceUid: study.studyInstanceUid,
      instances: manifest(),
      wholeSeries: study.series.map((series) => series.seriesInstanceUid),
      target: {
        host: '127.0.0.1',
        port: noGet.port,
        calledAeTitle: NOGET_AE_TITLE,
        callingAeTitle: 'PACSLINK',
        timeoutMs: 20_000,
      },
      operation: 'C-GET',
      moveOnGetFailure: true,
      moveDestinationAeTitle: SCP_AE_TITLE,
    };
    await publisher.publish(
      ImportBatchCommands.Dimse.exchange,
      createEnvelope(ImportBatchCommands.Dimse, batch),
    );
    const report = await finishedOf(batch.batchId);
    expect(report.failure).toBeUndefined();
    expect(report).toMatchObject({ subOperations: { completed: 4, failed: 0, warning: 0 }, outcomes: [] });
    // The switch: on the next progress report, and on the finished one (which this quick run reaches first).
    expect(report).toMatchObject({
      method: 'C-MOVE',
      fallback: expect.stringMatching(
        /^C-GET not possible: the PACS does not accept Study Root Query\/Retrieve \(C-GET\)/,
      ) as unknown,
    });
    const arrived = await eventually('the Storage SCP reports of the move from dcmqrscp', () => {
      const paths = received
        .filter((data) => data.pacsConfigId === NOGET_CONFIG_ID)
        .flatMap(
          (data) =>
            data.moves
              ?.filter((move) => move.moveOriginatorAeTitle === 'PACSLINK')
              .flatMap((move) => move.paths) ?? [],
        );
      return paths.length === 4 ? paths : undefined;
    });
    for (const instance of batch.instances) {
      const path = `studies/${study.studyInstanceUid}/${instance.seriesInstanceUid}/${instance.sopInstanceUid}.dcm`;
      expect(arrived).toContain(path);
      await expectSameDataSet(path, instance.sopInstanceUid);
    }
  });
});
