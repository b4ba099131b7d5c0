import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { INestApplication } from '@nestjs/common';
import {
  MppsErrorCodes,
  MppsRequests,
  WorklistRequests,
  type MessageContract,
  type MppsCompleteData,
  type MppsDiscontinueData,
  type MppsTaskData,
  type WorklistQueryData,
  type WorklistQueryResult,
  type WorklistTask,
  type WorklistTaskPage,
  type WorklistTasksListData,
} from '@pacslink/contracts';
import type { DicomJson } from '@pacslink/dicom';
import { DimseError, nCreate } from '@pacslink/dimse';
import { RpcClient, RpcRemoteError } from '@pacslink/messaging';
import { loadEnv, runService } from '@pacslink/platform';
import {
  createTestDatabase,
  createTestVhost,
  generateWorklist,
  randomId,
  startPeers,
  testEgressEnv,
  testEgressGuard,
  type GeneratedWorklist,
  type PeerEndpoints,
  type TestDatabase,
  type TestVhost,
  freePort,
} from '@pacslink/testing';
import { DataSource } from 'typeorm';
/* eslint-disable @nx/enforce-module-boundaries --
 * libs/dimse's test support: a free port, and the odil MPPS SCP (an implementation independent of
 * ours) that checks F.7. Test code only. */
import { startOdilMppsScp, type OdilMppsScp } from '../../../libs/dimse/test/support/odil-mpps-scp';
/* eslint-enable @nx/enforce-module-boundaries */
import { AppModule } from '../src/app.module';
import { MWL_MPPS_SERVICE, MwlMppsEnv } from '../src/config';
import { inProgressAttributes, MPPS_SOP_CLASS_UID } from '../src/mpps/mpps-attributes';

// mpps.start / complete / discontinue over RabbitMQ to the service on real Postgres, for tasks a
// real worklist (DCMTK wlmscpfs) gave, against the odil MPPS SCP of the tests, which checks what it
// receives against PS3.4 F.7 (odil-mpps-scp.py --check-f7).
jest.setTimeout(120_000);

const SERIES = '1.2.826.0.1.3680043.8.498.7001';
const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';
const SR = '1.2.840.10008.5.1.4.1.1.88.22';

describe('mwl-mpps-service: MPPS start, complete and discontinue (PS3.4 F.7)', () => {
  let database: TestDatabase;
  let vhost: TestVhost;
  let app: INestApplication;
  let peers: PeerEndpoints;
  let scp: OdilMppsScp;
  const cleanups: (() => Promise<unknown>)[] = [];
  const pacsConfigId = randomUUID();
  const station = randomId('MP', 4);
  const worklists: GeneratedWorklist[] = [];
  const tasks = new Map<string, WorklistTask>();

  const ask = <T extends object, R>(contract: MessageContract<T>, data: T): Promise<R> =>
    app.get(RpcClient).request<T, R>(contract, data, 20_000);

  function target(port = scp.port): MppsTaskData['target'] {
    return {
      host: '127.0.0.1',
      port,
      calledAeTitle: 'MPPS_SCP',
      callingAeTitle: 'PACSLINK_CT',
      timeoutMs: 5_000,
      mwlEncoding: 'ISO_IR 100',
    };
  }

  async function refusal(call: Promise<unknown>): Promise<RpcRemoteError> {
    const error = await call.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!(error instanceof RpcRemoteError))
      throw new Error(`expected an RpcRemoteError, got ${String(error)}`);
    return error;
  }

  const taskOf = (worklist: GeneratedWorklist): WorklistTask => {
    const task = tasks.get(worklist.accessionNumber);
    if (task === undefined) throw new Error(`no task for ${worklist.accessionNumber}`);
    return task;
  };

  /** The task as mwl.tasks.list gives it (scheduled, in-progress and completing by default). */
  async function listed(taskId: string): Promise<WorklistTask | undefined> {
    const page = await ask<WorklistTasksListData, WorklistTaskPage>(WorklistRequests.ListTasks, {
      pacsConfigId,
      limit: 50,
      offset: 0,
    });
    return page.items.find((item) => item.id === taskId);
  }

  const received = (uid: string) => scp.received.filter((request) => request.sopInstanceUid === uid);

  async function outboxTypes(taskId: string): Promise<string[]> {
    const rows = await app
      .get(DataSource)
      .query<{ routing_key: string }[]>(
        `SELECT routing_key FROM outbox_message WHERE envelope->'data'->>'taskId' = $1 ORDER BY created_at`,
        [taskId],
      );
    return rows.map((row) => row.routing_key);
  }

  beforeAll(async () => {
    [peers, scp] = await Promise.all([startPeers(), startOdilMppsScp({ checkF7: true })]);
    cleanups.push(() => scp.stop());
    [database, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    const env = loadEnv(MwlMppsEnv, {
      DATABASE_URL: database.url,
      AMQP_URL: vhost.url,
      LOG_LEVEL: 'silent',
      ...testEgressEnv(),
    });
    app = await runService(AppModule.forRoot(env), { service: MWL_MPPS_SERVICE, port: 0 });
    for (let index = 0; index < 4; index++) {
      const worklist = await generateWorklist(peers.wlm.dir, {
        patient: { charset: 'ISO_IR 100' },
        scheduledStationAETitle: station,
        scheduledDate: '20260316',
      });
      cleanups.push(() => rm(worklist.file, { force: true }));
      worklists.push(worklist);
    }
    const query: WorklistQueryData = {
      pacsConfigId,
      target: {
        ...target(peers.wlm.port),
        host: peers.wlm.host,
        calledAeTitle: peers.wlm.aet,
        timeoutMs: 10_000,
      },
      filters: { scheduledStationAeTitle: station },
    };
    const answer = await ask<WorklistQueryData, WorklistQueryResult>(WorklistRequests.Query, query);
    for (const task of answer.tasks) if (task.accessionNumber !== null) tasks.set(task.accessionNumber, task);
    expect(tasks.size).toBe(4);
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await app?.close();
    await Promise.all([database?.drop(), vhost?.drop()]);
  });

  it('start, then complete: N-CREATE IN PROGRESS and N-SET COMPLETED as F.7 wants them, the task leaves the list', async () => {
    const worklist = worklists[0];
    const task = taskOf(worklist);

    const started = await ask<MppsTaskData, WorklistTask>(MppsRequests.Start, {
      taskId: task.id,
      target: target(),
    });
    expect(started).toMatchObject({
      id: task.id,
      status: 'in-progress',
      mpps: { statusCode: 0, meaning: 'success', note: null },
    });
    const uid = started.mpps?.sopInstanceUid ?? '';
    expect(uid).toMatch(/^2\.25\.\d+$/);

    const [create] = received(uid);
    expect(create).toMatchObject({ command: 'N-CREATE', sopClassUid: MPPS_SOP_CLASS_UID });
    const attributes = create.dataSet ?? {};
    expect(attributes['00400270']?.Value).toEqual([
      expect.objectContaining({
        '0020000D': { vr: 'UI', Value: [worklist.studyInstanceUid] },
        '00080050': { vr: 'SH', Value: [worklist.accessionNumber] },
        '00401001': { vr: 'SH', Value: [worklist.requestedProcedureId] },
        '00400009': { vr: 'SH', Value: [worklist.scheduledProcedureStepId] },
      }),
    ]);
    expect(attributes['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: worklist.patient.name }] });
    expect(attributes['00100020']).toEqual({ vr: 'LO', Value: [worklist.patient.id] });
    expect(attributes['00400241']).toEqual({ vr: 'AE', Value: ['PACSLINK_CT'] });
    expect(attributes['00400252']).toEqual({ vr: 'CS', Value: ['IN PROGRESS'] });
    expect(attributes['00400253']?.Value?.[0]).toMatch(/^[0-9A-F]{16}$/);
    expect(attributes['00080060']).toEqual({ vr: 'CS', Value: ['CT'] });
    expect(attributes['00400244']?.Value?.[0]).toMatch(/^\d{8}$/);
    expect(attributes['00400245']?.Value?.[0]).toMatch(/^\d{6}$/);
    expect(attributes['00400340']).toEqual({ vr: 'SQ', Value: [] });
    expect(scp.refusals).toEqual([]);

    // started once: a second start is the task's state, not a second N-CREATE
    const again = await refusal(ask(MppsRequests.Start, { taskId: task.id, target: target() }));
    expect(again.code).toBe(MppsErrorCodes.TaskState);
    expect(received(uid)).toHaveLength(1);

    const completeData: MppsCompleteData = {
      taskId: task.id,
      target: target(),
      performedSeries: [
        {
          seriesInstanceUid: SERIES,
          seriesDescription: 'Thorax',
          instances: [
            { sopClassUid: CT_IMAGE, sopInstanceUid: `${SERIES}.1` },
            { sopClassUid: CT_IMAGE, sopInstanceUid: `${SERIES}.2` },
            { sopClassUid: SR, sopInstanceUid: `${SERIES}.3` },
          ],
        },
      ],
    };
    const completed = await ask<MppsCompleteData, WorklistTask>(MppsRequests.Complete, completeData);
    expect(completed).toMatchObject({ status: 'completed', mpps: { sopInstanceUid: uid, statusCode: 0 } });

    const [, set] = received(uid);
    expect(set).toMatchObject({ command: 'N-SET' });
    const modifications = set.dataSet ?? {};
    expect(modifications['00400252']).toEqual({ vr: 'CS', Value: ['COMPLETED'] });
    expect(modifications['00400250']?.Value?.[0]).toMatch(/^\d{8}$/);
    expect(modifications['00400251']?.Value?.[0]).toMatch(/^\d{6}$/);
    const [series] = (modifications['00400340']?.Value ?? []) as DicomJson[];
    expect(series['0020000E']).toEqual({ vr: 'UI', Value: [SERIES] });
    expect(series['00181030']?.Value).toHaveLength(1);
    expect(series['00081140']?.Value).toEqual([
      { '00081150': { vr: 'UI', Value: [CT_IMAGE] }, '00081155': { vr: 'UI', Value: [`${SERIES}.1`] } },
      { '00081150': { vr: 'UI', Value: [CT_IMAGE] }, '00081155': { vr: 'UI', Value: [`${SERIES}.2`] } },
    ]);
    expect(series['00400220']?.Value).toEqual([
      { '00081150': { vr: 'UI', Value: [SR] }, '00081155': { vr: 'UI', Value: [`${SERIES}.3`] } },
    ]);
    expect(scp.refusals).toEqual([]);

    expect(await listed(task.id)).toBeUndefined();
    expect(await outboxTypes(task.id)).toEqual(['worklist.task.started', 'worklist.task.completed']);
  });

  it('discontinue: N-SET DISCONTINUED with its reason code; a scheduled task cannot be discontinued, an unknown one is not found', async () => {
    const task = taskOf(worklists[1]);
    const scheduled = await refusal(
      ask<MppsDiscontinueData, WorklistTask>(MppsRequests.Discontinue, {
        taskId: task.id,
        target: target(),
        reason: '110514',
      }),
    );
    expect(scheduled.code).toBe(MppsErrorCodes.TaskState);

    const started = await ask<MppsTaskData, WorklistTask>(MppsRequests.Start, {
      taskId: task.id,
      target: target(),
    });
    const uid = started.mpps?.sopInstanceUid ?? '';
    const discontinued = await ask<MppsDiscontinueData, WorklistTask>(MppsRequests.Discontinue, {
      taskId: task.id,
      target: target(),
      reason: '110514',
    });
    expect(discontinued).toMatchObject({ status: 'discontinued', mpps: { statusCode: 0 } });
    const [, set] = received(uid);
    expect(set.dataSet?.['00400252']).toEqual({ vr: 'CS', Value: ['DISCONTINUED'] });
    expect(set.dataSet?.['00400281']?.Value).toEqual([
      {
        '00080100': { vr: 'SH', Value: ['110514'] },
        '00080102': { vr: 'SH', Value: ['DCM'] },
        '00080104': { vr: 'LO', Value: ['Incorrect worklist entry selected'] },
      },
    ]);
    expect(await outboxTypes(task.id)).toEqual(['worklist.task.started', 'worklist.task.discontinued']);

    const unknown = await refusal(ask(MppsRequests.Start, { taskId: randomUUID(), target: target() }));
    expect(unknown.code).toBe(MppsErrorCodes.TaskNotFound);
  });

  it("keeps the SCP's refusal on the task with its meaning, and leaves the task where it was", async () => {
    const task = taskOf(worklists[2]);
    await ask(MppsRequests.Start, { taskId: task.id, target: target() });
    // No performed series: F.7 wants at least one for COMPLETED, the SCP answers 0x0121.
    const refused = await refusal(
      ask<MppsCompleteData, WorklistTask>(MppsRequests.Complete, {
        taskId: task.id,
        target: target(),
        performedSeries: [],
      }),
    );
    expect(refused.code).toBe(MppsErrorCodes.ScpFailed);
    expect(refused.message).toContain('0x0121');
    const stored = await listed(task.id);
    expect(stored).toMatchObject({
      status: 'in-progress',
      mpps: { statusCode: 0x0121, meaning: 'missing attribute value' },
    });
    expect(stored?.mpps?.note).toContain('refused');
    expect(scp.refusals.at(-1)).toBe('N-SET COMPLETED without a performed series');
  });

  it('an SCP that does not answer leaves the task scheduled, the reason on it; the same MPPS UID is sent when it answers', async () => {
    const task = taskOf(worklists[3]);
    const nobody = await freePort();
    const down = await refusal(ask(MppsRequests.Start, { taskId: task.id, target: target(nobody) }));
    expect(down.code).toBe(MppsErrorCodes.ScpFailed);
    const stored = await listed(task.id);
    expect(stored).toMatchObject({
      status: 'scheduled',
      mpps: { statusCode: null, meaning: 'CONNECTION_REFUSED' },
    });

    const started = await ask<MppsTaskData, WorklistTask>(MppsRequests.Start, {
      taskId: task.id,
      target: target(),
    });
    expect(started.status).toBe('in-progress');
    expect(started.mpps?.sopInstanceUid).toBe(stored?.mpps?.sopInstanceUid);
  });

  describe('the test SCP checks F.7, so that these tests can fail', () => {
    const task: WorklistTask = {
      id: randomUUID(),
      pacsConfigId,
      status: 'scheduled',
      patientName: 'Muster^Max',
      patientId: 'P1',
      patientBirthDate: null,
      patientSex: null,
      accessionNumber: 'A1',
      requestedProcedureId: 'RP1',
      requestedProcedureDescription: null,
      studyInstanceUid: '1.2.826.0.1.3680043.8.498.42',
      scheduledProcedureStepId: 'SPS1',
      scheduledProcedureStepDescription: null,
      modality: 'CT',
      scheduledStationAeTitle: station,
      scheduledStartDate: null,
      scheduledStartTime: null,
      warnings: [],
      mpps: null,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
    const complete = () =>
      inProgressAttributes(task, {
        stationAeTitle: 'PACSLINK',
        startedAt: new Date(),
        mwlEncoding: 'ISO_IR 100',
      });
    const send = (dataSet: DicomJson) =>
      nCreate(
        {
          host: '127.0.0.1',
          port: scp.port,
          callingAeTitle: 'PACSLINK',
          calledAeTitle: 'MPPS_SCP',
          connectTimeoutMs: 5_000,
          associationTimeoutMs: 5_000,
          pduTimeoutMs: 5_000,
          egress: testEgressGuard(),
        },
        {
          sopClassUid: MPPS_SOP_CLASS_UID,
          sopInstanceUid: `2.25.${Date.now()}${Math.floor(Math.random() * 1e6)}`,
          dataSet,
        },
      );

    it('accepts the attribute list the service builds', async () => {
      await expect(send(complete())).resolves.toMatchObject({ statusCode: 0 });
    });

    it.each([
      ['a Type 2 attribute missing (Patient Birth Date)', '00100030', 0x0120],
      ['a Type 1 attribute missing (Performed Station AE Title)', '00400241', 0x0120],
      ['the Performed Series Sequence missing', '00400340', 0x0120],
    ])('refuses an N-CREATE with %s', async (_what, tag, status) => {
      const dataSet = complete();
      delete dataSet[tag];
      const error = await send(dataSet).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(DimseError);
      expect((error as DimseError).details.status).toBe(status);
    });

    it('refuses an N-CREATE that is not IN PROGRESS', async () => {
      const dataSet = { ...complete(), '00400252': { vr: 'CS', Value: ['COMPLETED'] } };
      const error = await send(dataSet).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect((error as DimseError).details.status).toBe(0x0106);
    });
  });
});
