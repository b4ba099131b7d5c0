import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Exchanges } from '@pacslink/contracts';
import {
  eventually,
  generateStudy,
  generateWorklist,
  randomId,
  startPeers,
  testEgressEnv,
  uploadToStudyStore,
  type GeneratedStudy,
  type PeerEndpoints,
} from '@pacslink/testing';
import { connect } from 'amqplib';
/* eslint-disable @nx/enforce-module-boundaries --
 * libs/dimse's test support: the odil MPPS SCP that checks PS3.4 F.7. Test code only. */
import { startOdilMppsScp, type OdilMppsScp } from '../../../libs/dimse/test/support/odil-mpps-scp';
/* eslint-enable @nx/enforce-module-boundaries */
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { startDicomRouter, type DicomRouter } from './dicom-router';
import { startServiceProcess, type ServiceProcess } from './service-process.harness';

// Automatic completion (contract "MPPS") through the running services: config-service exports a
// study with dimse-worker (its own process) to the PACS configuration whose worklist gave the task;
// mwl-mpps-service (its own process) hears transfer.completed and sends N-CREATE and N-SET
// COMPLETED to the odil F.7 SCP. One AE for all, as a RIS/PACS offers them: a router sends the
// worklist C-FIND to wlmscpfs, MPPS to the odil SCP, the C-STOREs to storescp.
jest.setTimeout(240_000);

const MPPS = '1.2.840.10008.3.1.2.3.3';
const MWL_FIND = '1.2.840.10008.5.1.4.31';

interface Task {
  id: string;
  status: string;
  studyInstanceUid: string | null;
  mpps: { sopInstanceUid: string; statusCode: number | null; attempts: number } | null;
}

describe('a task completes itself when its study is exported (MPPS)', () => {
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  let scp: OdilMppsScp;
  let router: DicomRouter;
  let workDir: string;
  let pacsConfigId: string;
  const processes: ServiceProcess[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  const studies: GeneratedStudy[] = [];
  const completedEvents: string[] = [];
  const station = randomId('AC', 4);

  async function tasksWith(status: string): Promise<Task[]> {
    const response = await service.call(
      'GET',
      `/worklist/tasks?pacsConfigId=${pacsConfigId}&status=${status}`,
    );
    expect(response.status).toBe(200);
    return ((await response.json()) as { items: Task[] }).items;
  }

  async function taskOf(study: GeneratedStudy): Promise<Task | undefined> {
    const all = await tasksWith('scheduled,in-progress,completing,completed,discontinued');
    return all.find((task) => task.studyInstanceUid === study.studyInstanceUid);
  }

  async function exportStudy(study: GeneratedStudy): Promise<void> {
    const response = await service.call('POST', '/transfers', {
      direction: 'export',
      pacsConfigId,
      studyInstanceUid: study.studyInstanceUid,
    });
    expect(response.status).toBe(202);
  }

  const sets = (uid: string | undefined) =>
    scp.received.filter((request) => request.sopInstanceUid === uid && request.command === 'N-SET');

  beforeAll(async () => {
    [peers, scp] = await Promise.all([startPeers(), startOdilMppsScp({ checkF7: true })]);
    router = await startDicomRouter({
      bySyntax: { [MPPS]: () => scp.port, [MWL_FIND]: () => peers.wlm.port },
      otherwise: () => peers.storescp.port,
    });
    cleanups.push(() => router.close());
    workDir = await mkdtemp(join(tmpdir(), 'worklist-auto-completion-'));
    cleanups.push(() => rm(workDir, { recursive: true, force: true }));
    const storeDir = join(workDir, 'store');
    service = await startConfigService({ env: { STORE_DIR: storeDir } });
    const settings = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(settings.status).toBe(200);
    await service.subscribe('worklist.task.completed', (body) => completedEvents.push(body));
    processes.push(
      await startServiceProcess('mwl-mpps-service', {
        DATABASE_URL: service.database.url,
        AMQP_URL: service.vhost.url,
        ...testEgressEnv(),
      }),
      await startServiceProcess('dimse-worker', {
        AMQP_URL: service.vhost.url,
        STORE_DIR: storeDir,
        ...testEgressEnv(),
      }),
    );
    for (let index = 0; index < 2; index++) {
      const study = await generateStudy(join(workDir, 'generated'), { series: 1, instancesPerSeries: 2 });
      expect((await uploadToStudyStore(service.baseUrl, service.apiKey, study.files)).status).toBe(200);
      const worklist = await generateWorklist(peers.wlm.dir, {
        patient: { charset: 'ISO_IR 100' },
        scheduledStationAETitle: station,
        studyInstanceUid: study.studyInstanceUid,
      });
      cleanups.push(() => rm(worklist.file, { force: true }));
      studies.push(study);
    }
    pacsConfigId = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: peers.wlm.aet,
      name: 'RIS and PACS',
      host: '127.0.0.1',
      port: router.port,
      cStore: true,
      mwl: true,
      mpps: true,
      mwlEncoding: 'ISO_IR 100',
      timeoutMs: 5_000,
    });
    const queried = await service.call('POST', '/worklist/query', {
      pacsConfigId,
      filters: { scheduledStationAeTitle: station },
    });
    expect(queried.status).toBe(200);
  });

  afterAll(async () => {
    for (const process of processes.reverse()) await process.stop();
    await service?.stop();
    await scp?.stop();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('export completed -> N-CREATE and one N-SET COMPLETED, the task completed and gone from the list, worklist.task.completed published; a redelivered event sends nothing more', async () => {
    const [study] = studies;
    expect(await taskOf(study)).toMatchObject({ status: 'scheduled' });
    let captured: Buffer | undefined;
    const capture = await connect(service.vhost.url);
    const channel = await capture.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, Exchanges.Events, 'transfer.completed');
    await channel.consume(queue, (message) => (captured ??= message?.content), { noAck: true });

    await exportStudy(study);
    const done = await eventually('the task to complete', async () => {
      const task = await taskOf(study);
      return task?.status === 'completed' ? task : undefined;
    });
    expect((await tasksWith('scheduled,in-progress,completing')).map((task) => task.id)).not.toContain(
      done.id,
    );
    const uid = done.mpps?.sopInstanceUid;
    expect(
      scp.received.filter((request) => request.sopInstanceUid === uid).map((request) => request.command),
    ).toEqual(['N-CREATE', 'N-SET']);
    const performed = (sets(uid)[0].dataSet?.['00400340']?.Value ?? []) as Record<
      string,
      { Value?: unknown[] }
    >[];
    expect(performed.map((item) => item['0020000E'].Value?.[0])).toEqual([study.series[0].seriesInstanceUid]);
    expect(scp.refusals).toEqual([]);
    await eventually('worklist.task.completed', () =>
      completedEvents.some((body) => body.includes(done.id)) ? true : undefined,
    );

    // The same event again (at-least-once delivery): the inbox has its id, no second N-SET.
    if (captured === undefined) throw new Error('transfer.completed was not seen');
    channel.publish(Exchanges.Events, 'transfer.completed', captured, {
      contentType: 'application/json',
      persistent: true,
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(sets(uid)).toHaveLength(1);
    expect(await taskOf(study)).toMatchObject({ status: 'completed' });
    // closed before the vhost is dropped at the end
    await capture.close();
  });

  it('MPPS SCP down: the task is completing, retried with backoff; up again: completed with one N-SET', async () => {
    const study = studies[1];
    await scp.stop();
    await exportStudy(study);
    const waiting = await eventually('the task to be completing after a failed attempt', async () => {
      const task = await taskOf(study);
      return task?.status === 'completing' && (task.mpps?.attempts ?? 0) >= 1 ? task : undefined;
    });
    expect(waiting.mpps?.statusCode).toBeNull();

    scp = await startOdilMppsScp({ checkF7: true });
    const done = await eventually(
      'the task to complete once the SCP is back',
      async () => {
        const task = await taskOf(study);
        return task?.status === 'completed' ? task : undefined;
      },
      30_000,
    );
    expect(done.mpps?.sopInstanceUid).toBe(waiting.mpps?.sopInstanceUid);
    expect(sets(done.mpps?.sopInstanceUid)).toHaveLength(1);
    expect(scp.refusals).toEqual([]);
  });
});
