import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTestDatabase,
  createTestVhost,
  eventually,
  generateStudy,
  generateWorklist,
  randomId,
  startPeers,
  testEgressEnv,
  uploadToStudyStore,
  type PeerEndpoints,
  type TestDatabase,
  type TestVhost,
} from '@pacslink/testing';
/* eslint-disable @nx/enforce-module-boundaries --
 * libs/dimse's test support: the odil MPPS SCP that checks PS3.4 F.7. Test code only. */
import { startOdilMppsScp, type OdilMppsScp } from '../../../libs/dimse/test/support/odil-mpps-scp';
/* eslint-enable @nx/enforce-module-boundaries */
import { newApiKey } from './config-service.harness';
import { startServiceProcess, type ServiceProcess } from './service-process.harness';

// Logs never name the patient (ADR 0009): config-service and mwl-mpps-service as their own
// processes, their stdout and stderr captured line by line, while worklist queries, an MPPS start
// and complete carry a patient's name and ID (in the worklists from wlmscpfs and from Orthanc's
// plugin, in the stored study, in the N-CREATE to the odil F.7 SCP).
jest.setTimeout(180_000);

// Unusual enough that no other text of a log line holds them by chance.
const FAMILY = 'Zyxwärbler';
const GIVEN = 'Quintessa';
const PATIENT_ID = `PX${randomBytes(4).toString('hex').toUpperCase()}`;

describe('no patient name or ID in the logs of a worklist query and its MPPS', () => {
  let peers: PeerEndpoints;
  let scp: OdilMppsScp;
  let database: TestDatabase;
  let vhost: TestVhost;
  let workDir: string;
  const apiKey = newApiKey();
  const processes: ServiceProcess[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  const call = (process: ServiceProcess, method: string, path: string, body?: unknown) =>
    fetch(`${process.baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    [peers, scp, database, vhost] = await Promise.all([
      startPeers(),
      startOdilMppsScp({ checkF7: true }),
      createTestDatabase(),
      createTestVhost(),
    ]);
    cleanups.push(
      () => scp.stop(),
      () => vhost.drop(),
      () => database.drop(),
    );
    workDir = await mkdtemp(join(tmpdir(), 'worklist-logs-'));
    cleanups.push(() => rm(workDir, { recursive: true, force: true }));
  });

  afterAll(async () => {
    for (const process of processes.reverse()) await process.stop();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('query, start and complete succeed, and no line of either service names the patient', async () => {
    const config = await startServiceProcess('config-service', {
      DATABASE_URL: database.url,
      AMQP_URL: vhost.url,
      API_KEYS: apiKey,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      STORE_DIR: join(workDir, 'store'),
      ...testEgressEnv(),
    });
    processes.push(config);
    const mwl = await startServiceProcess('mwl-mpps-service', {
      DATABASE_URL: database.url,
      AMQP_URL: vhost.url,
      ...testEgressEnv(),
    });
    processes.push(mwl);

    const patient = { name: `${FAMILY}^${GIVEN}`, id: PATIENT_ID, charset: 'ISO_IR 100' as const };
    const study = await generateStudy(join(workDir, 'generated'), {
      series: 1,
      instancesPerSeries: 1,
      patient,
    });
    expect((await uploadToStudyStore(config.baseUrl, apiKey, study.files)).status).toBe(200);
    const station = randomId('LG', 4);
    const worklist = await generateWorklist(peers.wlm.dir, {
      patient,
      scheduledStationAETitle: station,
      studyInstanceUid: study.studyInstanceUid,
    });
    cleanups.push(() => rm(worklist.file, { force: true }));

    const created = await call(config, 'POST', '/pacs-configs', {
      type: 'dimse',
      aeTitle: peers.wlm.aet,
      name: 'RIS',
      host: peers.wlm.host,
      port: peers.wlm.port,
      mwl: true,
      mwlEncoding: 'ISO_IR 100',
      timeoutMs: 10_000,
    });
    expect(created.status).toBe(201);
    const pacsConfigId = ((await created.json()) as { id: string }).id;
    const queried = await call(config, 'POST', '/worklist/query', {
      pacsConfigId,
      filters: { scheduledStationAeTitle: station },
    });
    expect(queried.status).toBe(200);
    const [task] = ((await queried.json()) as { tasks: { id: string; patientName: string }[] }).tasks;
    // the name is in the data: decoded, answered to the caller
    expect(task.patientName).toBe(patient.name);

    // The same patient from Orthanc's worklist plugin (answers in UTF-8, its own (0008,0005)).
    const orthancStation = randomId('LO', 4);
    const orthancWorklist = await generateWorklist(peers.orthanc.worklistDir, {
      patient: { ...patient, charset: 'ISO_IR 192' },
      scheduledStationAETitle: orthancStation,
    });
    cleanups.push(() => rm(orthancWorklist.file, { force: true }));
    const orthancConfig = await call(config, 'POST', '/pacs-configs', {
      type: 'dimse',
      aeTitle: peers.orthanc.aet,
      name: 'Orthanc worklist plugin',
      host: peers.orthanc.host,
      port: peers.orthanc.port,
      // Orthanc answers worklist queries only from the calling AE titles it lists.
      queryAeTitle: 'FINDSCU',
      mwl: true,
      mwlEncoding: 'ISO_IR 100',
      timeoutMs: 10_000,
    });
    expect(orthancConfig.status).toBe(201);
    const fromOrthanc = await call(config, 'POST', '/worklist/query', {
      pacsConfigId: ((await orthancConfig.json()) as { id: string }).id,
      filters: { scheduledStationAeTitle: orthancStation },
    });
    expect(fromOrthanc.status).toBe(200);
    const orthancTasks = ((await fromOrthanc.json()) as { tasks: { patientName: string }[] }).tasks;
    expect(orthancTasks.map((item) => item.patientName)).toEqual([patient.name]);

    const patched = await call(config, 'PATCH', `/pacs-configs/${pacsConfigId}`, {
      host: '127.0.0.1',
      port: scp.port,
      aeTitle: 'MPPS_SCP',
      mpps: true,
    });
    expect(patched.status).toBe(200);
    expect((await call(config, 'POST', `/worklist/tasks/${task.id}/start`)).status).toBe(200);
    expect((await call(config, 'POST', `/worklist/tasks/${task.id}/complete`)).status).toBe(200);
    // the SCP got the name (so it went through the services)
    const [create] = scp.received;
    expect(JSON.stringify(create.dataSet)).toContain(FAMILY);

    // Each service logged the steps (the capture works), none of them the patient.
    const messages = mwl.logs.map((line) => line.msg);
    expect(messages.filter((msg) => msg === 'worklist queried')).toHaveLength(2);
    expect(messages).toEqual(expect.arrayContaining(['mpps start', 'mpps complete']));
    // (the access log line is written once the answer has gone)
    await eventually(
      'the access log of the complete',
      () =>
        config.logs.some((line) => JSON.stringify(line).includes(`/worklist/tasks/${task.id}/complete`)) ||
        undefined,
    );
    for (const { app, logs } of [config, mwl]) {
      const naming = logs
        .map((line) => JSON.stringify(line))
        .filter((line) => [FAMILY, GIVEN, PATIENT_ID].some((value) => line.includes(value)));
      expect({ app, naming }).toEqual({ app, naming: [] });
    }
  });
});
