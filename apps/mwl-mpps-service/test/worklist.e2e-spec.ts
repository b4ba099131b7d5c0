import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { INestApplication } from '@nestjs/common';
import {
  WorklistRequests,
  type MessageContract,
  type WorklistQueryData,
  type WorklistQueryResult,
  type WorklistTaskPage,
  type WorklistTasksListData,
} from '@pacslink/contracts';
import { RpcClient } from '@pacslink/messaging';
import { loadEnv, runService } from '@pacslink/platform';
import {
  createTestDatabase,
  createTestVhost,
  generateWorklist,
  randomId,
  startPeers,
  testEgressEnv,
  type GeneratedWorklist,
  type PeerEndpoints,
  type TestDatabase,
  type TestVhost,
} from '@pacslink/testing';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module';
import { MWL_MPPS_SERVICE, MwlMppsEnv } from '../src/config';

// mwl.query and mwl.tasks.list over RabbitMQ to the service on real Postgres, which asks DCMTK
// wlmscpfs (answers without (0008,0005): the configured mwlEncoding decodes them).
jest.setTimeout(120_000);

describe('mwl-mpps-service answers worklist queries and keeps their steps as tasks', () => {
  let database: TestDatabase;
  let vhost: TestVhost;
  let app: INestApplication;
  let peers: PeerEndpoints;
  const cleanups: (() => Promise<unknown>)[] = [];
  const pacsConfigId = randomUUID();
  const station = randomId('ST', 4);
  let cyrillic: GeneratedWorklist;
  let latin1: GeneratedWorklist;

  const ask = <T extends object, R>(contract: MessageContract<T>, data: T): Promise<R> =>
    app.get(RpcClient).request<T, R>(contract, data, 20_000);

  function queryOf(mwlEncoding: WorklistQueryData['target']['mwlEncoding']): WorklistQueryData {
    return {
      pacsConfigId,
      target: {
        host: peers.wlm.host,
        port: peers.wlm.port,
        calledAeTitle: peers.wlm.aet,
        callingAeTitle: 'PACSLINK',
        timeoutMs: 10_000,
        mwlEncoding,
      },
      filters: { scheduledStationAeTitle: station, scheduledDate: '20260301-20260331' },
    };
  }

  beforeAll(async () => {
    peers = await startPeers();
    [database, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    const env = loadEnv(MwlMppsEnv, {
      DATABASE_URL: database.url,
      AMQP_URL: vhost.url,
      LOG_LEVEL: 'silent',
      ...testEgressEnv(),
    });
    app = await runService(AppModule.forRoot(env), { service: MWL_MPPS_SERVICE, port: 0 });
    for (const charset of ['ISO_IR 144', 'ISO_IR 100'] as const) {
      const worklist = await generateWorklist(peers.wlm.dir, {
        patient: { charset },
        scheduledStationAETitle: station,
        scheduledDate: '20260315',
      });
      cleanups.push(() => rm(worklist.file, { force: true }));
      if (charset === 'ISO_IR 144') cyrillic = worklist;
      else latin1 = worklist;
    }
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await app?.close();
    await Promise.all([database?.drop(), vhost?.drop()]);
  });

  it('decodes names by mwlEncoding, reports those it cannot, and updates the same tasks on a second query', async () => {
    const first = await ask<WorklistQueryData, WorklistQueryResult>(
      WorklistRequests.Query,
      queryOf('ISO_IR 144'),
    );
    expect(first.unidentified).toBe(0);
    const byAccession = new Map(first.tasks.map((task) => [task.accessionNumber, task]));
    expect(byAccession.get(cyrillic.accessionNumber)).toMatchObject({
      pacsConfigId,
      status: 'scheduled',
      patientName: cyrillic.patient.name,
      patientId: cyrillic.patient.id,
      studyInstanceUid: cyrillic.studyInstanceUid,
      scheduledProcedureStepId: cyrillic.scheduledProcedureStepId,
      scheduledProcedureStepDescription: 'КТ с контрастом',
      scheduledStationAeTitle: station,
      scheduledStartDate: '20260315',
      modality: 'CT',
      warnings: [],
    });
    expect(first.tasks).toHaveLength(2);

    // The same steps under ISO_IR 100: the Latin-1 name is now right; the Cyrillic task is updated
    // in place (ISO 8859-1 reads any byte, so its name turns to Latin letters: no warning possible).
    const second = await ask<WorklistQueryData, WorklistQueryResult>(
      WorklistRequests.Query,
      queryOf('ISO_IR 100'),
    );
    expect(second.tasks.map((task) => task.id).sort()).toEqual(first.tasks.map((task) => task.id).sort());
    const latinTask = second.tasks.find((task) => task.accessionNumber === latin1.accessionNumber);
    expect(latinTask).toMatchObject({ patientName: 'Müller^Jürgen', warnings: [] });

    // UTF-8 configured for a PACS that sends ISO 8859 bytes: each value is reported, none hidden.
    const third = await ask<WorklistQueryData, WorklistQueryResult>(
      WorklistRequests.Query,
      queryOf('ISO_IR 192'),
    );
    expect(third.tasks.find((task) => task.accessionNumber === latin1.accessionNumber)?.warnings).toEqual([
      'PatientName cannot be decoded as ISO_IR 192: it is shown as decoded, with replacement characters',
      'RequestedProcedureDescription cannot be decoded as ISO_IR 192: it is shown as decoded, with replacement characters',
    ]);

    const rows = await app
      .get(DataSource)
      .query<{ count: number }[]>(
        `SELECT count(*)::int AS count FROM worklist_task WHERE pacs_config_id = $1`,
        [pacsConfigId],
      );
    expect(rows).toEqual([{ count: 2 }]);
  });

  it('lists the scheduled and in-progress tasks by default, filtered by configuration and status', async () => {
    await ask(WorklistRequests.Query, queryOf('ISO_IR 144'));
    const sql = app.get(DataSource);
    await sql.query(`UPDATE worklist_task SET status = 'completed' WHERE accession_number = $1`, [
      latin1.accessionNumber,
    ]);
    const list = (data: Partial<WorklistTasksListData>) =>
      ask<WorklistTasksListData, WorklistTaskPage>(WorklistRequests.ListTasks, {
        limit: 50,
        offset: 0,
        ...data,
      });

    const open = await list({ pacsConfigId });
    expect(open).toMatchObject({ total: 1, limit: 50, offset: 0 });
    expect(open.items.map((task) => task.accessionNumber)).toEqual([cyrillic.accessionNumber]);
    const done = await list({ pacsConfigId, status: ['completed'] });
    expect(done.items.map((task) => task.accessionNumber)).toEqual([latin1.accessionNumber]);
    expect((await list({ pacsConfigId: randomUUID() })).total).toBe(0);

    // A refresh leaves a task's status alone: the completed step stays completed.
    await ask(WorklistRequests.Query, queryOf('ISO_IR 100'));
    expect((await list({ pacsConfigId, status: ['completed'] })).total).toBe(1);
  });
});
