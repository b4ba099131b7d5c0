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
import { readableDataSet, Walkthrough } from './walkthrough';

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
  accessionNumber: string | null;
  mpps: {
    sopInstanceUid: string;
    statusCode: number | null;
    note: string | null;
    attempts: number;
  } | null;
}

/** What each test exports: a study in the store, and the worklist step scheduled for it. */
interface Scheduled {
  study: GeneratedStudy;
  accessionNumber: string;
}

describe('a task completes itself when its study is exported (MPPS)', () => {
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  let scp: OdilMppsScp;
  let router: DicomRouter;
  let workDir: string;
  let pacsConfigId: string;
  let mwl: ServiceProcess;
  const processes: ServiceProcess[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  const scheduled: Scheduled[] = [];
  /** the worklist's patients' name components and IDs, which no log line may hold */
  const patientValues = new Set<string>();
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

  async function taskOf({ accessionNumber }: Scheduled): Promise<Task | undefined> {
    const all = await tasksWith('scheduled,in-progress,completing,completed,discontinued');
    return all.find((task) => task.accessionNumber === accessionNumber);
  }

  async function taskWith(step: Scheduled, status: string, timeoutMs?: number): Promise<Task> {
    return eventually(
      `the task to be ${status}`,
      async () => {
        const task = await taskOf(step);
        return task?.status === status ? task : undefined;
      },
      timeoutMs,
    );
  }

  function startMwlMpps(): Promise<ServiceProcess> {
    return startServiceProcess('mwl-mpps-service', {
      DATABASE_URL: service.database.url,
      AMQP_URL: service.vhost.url,
      ...testEgressEnv(),
    });
  }

  /** Binds a queue of the test's to transfer.completed: `first()` is the first one published after. */
  async function captureTransferCompleted(): Promise<{
    seen(): boolean;
    publishAgain(): void;
    close(): Promise<void>;
  }> {
    let captured: Buffer | undefined;
    const connection = await connect(service.vhost.url);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, Exchanges.Events, 'transfer.completed');
    await channel.consume(queue, (message) => (captured ??= message?.content), { noAck: true });
    const first = () => {
      if (captured === undefined) throw new Error('transfer.completed was not seen');
      return captured;
    };
    return {
      seen: () => captured !== undefined,
      // at-least-once delivery: the same envelope (same event id) again
      publishAgain: () =>
        channel.publish(Exchanges.Events, 'transfer.completed', first(), {
          contentType: 'application/json',
          persistent: true,
        }),
      // closed before the vhost is dropped at the end
      close: () => connection.close(),
    };
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
    mwl = await startMwlMpps();
    processes.push(
      await startServiceProcess('dimse-worker', {
        AMQP_URL: service.vhost.url,
        STORE_DIR: storeDir,
        ...testEgressEnv(),
      }),
    );
    for (let index = 0; index < 6; index++) {
      const study = await generateStudy(join(workDir, 'generated'), { series: 1, instancesPerSeries: 2 });
      expect((await uploadToStudyStore(service.baseUrl, service.apiKey, study.files)).status).toBe(200);
      const worklist = await generateWorklist(peers.wlm.dir, {
        patient: { charset: 'ISO_IR 100' },
        scheduledStationAETitle: station,
        accessionNumber: study.accessionNumber,
        // the fifth step's Study Instance UID is the worklist's own, not the exported study's: it
        // matches by accession only
        ...(index === 4 ? {} : { studyInstanceUid: study.studyInstanceUid }),
      });
      cleanups.push(() => rm(worklist.file, { force: true }));
      for (const value of [...worklist.patient.name.split('^'), worklist.patient.id])
        patientValues.add(value);
      scheduled.push({ study, accessionNumber: study.accessionNumber });
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
    await mwl?.stop();
    for (const process of processes.reverse()) await process.stop();
    await service?.stop();
    await scp?.stop();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('export completed -> N-CREATE and one N-SET COMPLETED, the task completed and gone from the list, worklist.task.completed published', async () => {
    const [step] = scheduled;
    expect(await taskOf(step)).toMatchObject({ status: 'scheduled' });
    const capture = await captureTransferCompleted();

    await exportStudy(step.study);
    const done = await taskWith(step, 'completed');
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
    expect(performed.map((item) => item['0020000E'].Value?.[0])).toEqual([
      step.study.series[0].seriesInstanceUid,
    ]);
    expect(scp.refusals).toEqual([]);
    await eventually('worklist.task.completed', () =>
      completedEvents.some((body) => body.includes(done.id)) ? true : undefined,
    );

    // The same event again: the task is completed, nothing more is sent.
    capture.publishAgain();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(sets(uid)).toHaveLength(1);
    expect(await taskOf(step)).toMatchObject({ status: 'completed' });
    await capture.close();
  });

  it("a step whose Study Instance UID is not the exported study's completes by its Accession Number", async () => {
    const step = scheduled[4];
    const before = await taskOf(step);
    expect(before?.studyInstanceUid).not.toBe(step.study.studyInstanceUid);

    await exportStudy(step.study);
    const done = await taskWith(step, 'completed');
    const uid = done.mpps?.sopInstanceUid;
    const [create] = scp.received.filter(
      (request) => request.sopInstanceUid === uid && request.command === 'N-CREATE',
    );
    // the MPPS names the step as the worklist scheduled it, and the series that were exported
    const stepItem = (create.dataSet?.['00400270']?.Value ?? [])[0] as Record<string, { Value?: unknown[] }>;
    expect(stepItem['0020000D'].Value).toEqual([before?.studyInstanceUid]);
    expect(stepItem['00080050'].Value).toEqual([step.accessionNumber]);
    const performed = (sets(uid)[0].dataSet?.['00400340']?.Value ?? []) as Record<
      string,
      { Value?: unknown[] }
    >[];
    expect(performed.map((item) => item['0020000E'].Value?.[0])).toEqual([
      step.study.series[0].seriesInstanceUid,
    ]);
    expect(sets(uid)).toHaveLength(1);
  });

  it('a redelivered transfer.completed sends no second N-SET, even when the first was refused and the task is open again', async () => {
    // The task is started by hand (N-CREATE), then the SCP restarts and forgets it: the automatic
    // N-SET is refused (0x0112, no such instance) and the task is in-progress again, where a
    // second marking would find it. Only the inbox keeps the redelivered event from sending again.
    const step = scheduled[2];
    const task = await taskOf(step);
    const started = await service.call('POST', `/worklist/tasks/${task?.id}/start`);
    expect(started.status).toBe(200);
    await scp.stop();
    scp = await startOdilMppsScp({ checkF7: true });
    const capture = await captureTransferCompleted();

    await exportStudy(step.study);
    const refused = await eventually('the N-SET to be refused', async () => {
      const current = await taskOf(step);
      return current?.status === 'in-progress' && current.mpps?.statusCode === 0x0112 ? current : undefined;
    });
    const uid = refused.mpps?.sopInstanceUid;
    expect(sets(uid)).toHaveLength(1);

    await eventually('transfer.completed to be captured', () => capture.seen() || undefined);
    capture.publishAgain();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(sets(uid)).toHaveLength(1);
    expect(await taskOf(step)).toMatchObject({ status: 'in-progress', mpps: { statusCode: 0x0112 } });
    await capture.close();
  });

  it('MPPS SCP down: the task is completing, retried with backoff (not at every sweep); up again: completed with one N-SET', async () => {
    const step = scheduled[1];
    await scp.stop();
    await exportStudy(step.study);
    const waiting = await eventually('the task to be completing after a failed attempt', async () => {
      const task = await taskOf(step);
      return task?.status === 'completing' && (task.mpps?.attempts ?? 0) >= 1 ? task : undefined;
    });
    expect(waiting.mpps?.statusCode).toBeNull();
    // 2 s, then 4 s after the first attempt: at most 3 attempts in the next 7 s (a sweep runs every
    // second, and at once after an attempt: without backoff there would be many more).
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    const later = await taskOf(step);
    expect(later?.status).toBe('completing');
    expect(later?.mpps?.attempts).toBeGreaterThanOrEqual(2);
    expect(later?.mpps?.attempts).toBeLessThanOrEqual(4);

    scp = await startOdilMppsScp({ checkF7: true });
    const done = await taskWith(step, 'completed', 60_000);
    expect(done.mpps?.sopInstanceUid).toBe(waiting.mpps?.sopInstanceUid);
    expect(sets(done.mpps?.sopInstanceUid)).toHaveLength(1);
    expect(scp.refusals).toEqual([]);
  });

  it('mwl-mpps-service killed after the SCP applied N-SET COMPLETED, before its commit: after a restart the task is completed, with one N-SET accepted', async () => {
    const step = scheduled[3];
    await scp.stop();
    // Answers each N-SET 2.5 s after applying it: the service is killed in between.
    scp = await startOdilMppsScp({ checkF7: true, setDelayMs: 2_500 });
    await exportStudy(step.study);
    const [applied] = await eventually('the N-SET to reach the SCP', async () => {
      const uid = (await taskOf(step))?.mpps?.sopInstanceUid;
      const received = sets(uid);
      return uid !== undefined && received.length > 0 ? received : undefined;
    });
    await mwl.stop();
    expect(scp.refusals).toEqual([]);

    mwl = await startMwlMpps();
    const done = await taskWith(step, 'completed', 60_000);
    expect(done.mpps?.sopInstanceUid).toBe(applied.sopInstanceUid);
    // Sent again after the restart and refused by the SCP: the step is COMPLETED there already.
    expect(sets(applied.sopInstanceUid)).toHaveLength(2);
    expect(scp.refusals).toEqual(['N-SET of an instance that is COMPLETED']);
    expect(done.mpps).toMatchObject({ statusCode: 0x0110 });
    expect(done.mpps?.note).toContain('an earlier N-SET of ours reached it');
    await eventually('worklist.task.completed', () =>
      completedEvents.some((body) => body.includes(done.id)) ? true : undefined,
    );
  });

  it('the closing walk: one task from the worklist to gone, with the MPPS messages the SCP received (WALKTHROUGH_OUT=docs/worklist-walkthrough.md writes it)', async () => {
    const step = scheduled[5];
    // an SCP of its own: the one before answers late and has refused on purpose
    await scp.stop();
    scp = await startOdilMppsScp({ checkF7: true });
    const walk = new Walkthrough(
      'A worklist task from the worklist to gone (issue 13)',
      [
        'Output of a real run, not edited: `WALKTHROUGH_OUT=docs/worklist-walkthrough.md npx jest --config',
        "jest.config.ts apps/config-service/test/worklist-auto-completion.e2e-spec.ts -t 'closing walk'`.",
        'config-service (in the test process), mwl-mpps-service and dimse-worker (their own processes),',
        'RabbitMQ and Postgres; one PACS address behind a router: the worklist C-FIND goes to DCMTK',
        '`wlmscpfs` (serving a generated `.wl` file, ISO_IR 100, synthetic patient), MPPS to the odil',
        'SCP of the tests that checks PS3.4 F.7, C-STORE to DCMTK `storescp`. ADR 0009 says why each',
        'step is as it is. Other steps of the same worklist are left out.',
      ].join('\n'),
    );
    const queried = await service.call('POST', '/worklist/query', {
      pacsConfigId,
      filters: { scheduledStationAeTitle: station },
    });
    expect(queried.status).toBe(200);
    const answer = (await queried.json()) as { tasks: Task[]; unidentified: number };
    const task = answer.tasks.find((candidate) => candidate.accessionNumber === step.accessionNumber);
    if (task === undefined) throw new Error('the query did not answer the step');
    walk.json(
      `1. POST /api/v1/worklist/query {"pacsConfigId", "filters": {"scheduledStationAeTitle": "${station}"}} -> ${queried.status}: the step, kept as a task`,
      task,
    );

    const listed = (await tasksWith('scheduled,in-progress,completing')).find((item) => item.id === task.id);
    expect(listed?.status).toBe('scheduled');
    walk.text(
      `### 2. GET /api/v1/worklist/tasks?pacsConfigId=…: listed, status \`${listed?.status}\`, no MPPS yet (\`mpps\`: ${JSON.stringify(listed?.mpps)})`,
    );

    const capture = await captureTransferCompleted();
    const exported = await service.call('POST', '/transfers', {
      direction: 'export',
      pacsConfigId,
      studyInstanceUid: step.study.studyInstanceUid,
    });
    expect(exported.status).toBe(202);
    const transfer = (await exported.json()) as { id: string; status: string };
    walk.text(
      `### 3. POST /api/v1/transfers {"direction": "export", "pacsConfigId", "studyInstanceUid": "${step.study.studyInstanceUid}"} -> ${exported.status}, transfer ${transfer.id} ${transfer.status}`,
    );

    const done = await taskWith(step, 'completed');
    await eventually('transfer.completed to be captured', () => capture.seen() || undefined);
    await capture.close();
    const uid = done.mpps?.sopInstanceUid;
    const messages = scp.received.filter((request) => request.sopInstanceUid === uid);
    expect(messages.map((request) => request.command)).toEqual(['N-CREATE', 'N-SET']);
    expect(scp.refusals).toEqual([]);
    walk.text(
      '### 4. dimse-worker sent the study (C-STORE), config-service published `transfer.completed`; mwl-mpps-service, on its own queue, asked config-service for the MPPS target and the study (series, accession), marked the task `completing` and its sweep sent:',
    );
    messages.forEach((request, index) => {
      walk.block(
        `4.${index + 1} The odil MPPS SCP received ${request.command} (SOP Class ${request.sopClassUid}, SOP Instance ${request.sopInstanceUid}), accepted (0x0000)`,
        readableDataSet(request.dataSet).join('\n'),
      );
    });
    const lines = mwl.logs.filter((line) => line.taskId === task.id || line.transferId === transfer.id);
    walk.block(
      "5. mwl-mpps-service's log lines for this transfer and task (JSON, as written)",
      lines.map((line) => JSON.stringify(line)).join('\n'),
      'json',
    );
    walk.json(`6. GET /api/v1/worklist/tasks?status=completed: the task, completed, its MPPS`, done);
    const open = await tasksWith('scheduled,in-progress,completing');
    expect(open.map((item) => item.id)).not.toContain(task.id);
    const defaultList = await service.call('GET', `/worklist/tasks?pacsConfigId=${pacsConfigId}`);
    const defaultIds = ((await defaultList.json()) as { items: Task[] }).items.map((item) => item.id);
    expect(defaultIds).not.toContain(task.id);
    walk.text(
      `### 7. GET /api/v1/worklist/tasks?pacsConfigId=… (default: scheduled, in-progress, completing): ${defaultIds.length} other task(s) listed, task ${task.id} not among them: gone`,
    );
    const event = await eventually('worklist.task.completed', () =>
      completedEvents.find((body) => body.includes(task.id)),
    );
    walk.json('8. worklist.task.completed, as published on pacslink.events', JSON.parse(event));
    await walk.write();

    // Automatic completion names no patient in the logs either (mwl-mpps-service, dimse-worker).
    for (const { app, logs } of [mwl, ...processes]) {
      const naming = logs
        .map((line) => JSON.stringify(line))
        .filter((line) => [...patientValues].some((value) => line.includes(value)));
      expect({ app, naming }).toEqual({ app, naming: [] });
    }
  });
});
