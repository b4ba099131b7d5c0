import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateStudy,
  generateWorklist,
  randomId,
  startPeers,
  testEgressEnv,
  uploadToStudyStore,
  type GeneratedStudy,
  type GeneratedWorklist,
  type PeerEndpoints,
} from '@pacslink/testing';
/* eslint-disable @nx/enforce-module-boundaries --
 * libs/dimse's test support: the odil MPPS SCP that checks PS3.4 F.7. Test code only. */
import { startOdilMppsScp, type OdilMppsScp } from '../../../libs/dimse/test/support/odil-mpps-scp';
/* eslint-enable @nx/enforce-module-boundaries */
import { expectProblem, startConfigService, type RunningConfigService } from './config-service.harness';
import { startServiceProcess, type ServiceProcess } from './service-process.harness';

// The contract's MPPS through the running services: config-service builds the MPPS SCP's target
// from the task's configuration and, to complete, the Performed Series Sequence from its study
// index; mwl-mpps-service (its own process) sends N-CREATE and N-SET to the odil SCP of the tests,
// which checks them against PS3.4 F.7. wlmscpfs has no MPPS: the configuration queries the
// worklist at wlmscpfs, then is pointed (PATCH) at the MPPS SCP, as one RIS offering both would be.
jest.setTimeout(180_000);

interface Task {
  id: string;
  status: string;
  accessionNumber: string | null;
  mpps: { sopInstanceUid: string; statusCode: number | null; meaning: string | null } | null;
}

describe('worklist tasks started, completed and discontinued through config-service (MPPS)', () => {
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  let mwl: ServiceProcess | undefined;
  let scp: OdilMppsScp;
  let workDir: string;
  let study: GeneratedStudy;
  let pacsConfigId: string;
  const cleanups: (() => Promise<unknown>)[] = [];
  const worklists: GeneratedWorklist[] = [];
  const tasks = new Map<string, Task>();

  async function post(path: string, body?: unknown): Promise<Response> {
    return service.call('POST', path, body);
  }

  async function listedIds(): Promise<string[]> {
    const response = await service.call('GET', `/worklist/tasks?pacsConfigId=${pacsConfigId}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { items: Task[] }).items.map((task) => task.id);
  }

  const taskOf = (index: number): Task => {
    const task = tasks.get(worklists[index].accessionNumber);
    if (task === undefined) throw new Error(`no task for worklist ${index}`);
    return task;
  };

  beforeAll(async () => {
    [peers, scp] = await Promise.all([startPeers(), startOdilMppsScp({ checkF7: true })]);
    cleanups.push(() => scp.stop());
    workDir = await mkdtemp(join(tmpdir(), 'worklist-mpps-e2e-'));
    cleanups.push(() => rm(workDir, { recursive: true, force: true }));
    service = await startConfigService();
    mwl = await startServiceProcess('mwl-mpps-service', {
      DATABASE_URL: service.database.url,
      AMQP_URL: service.vhost.url,
      ...testEgressEnv(),
    });
    // The first task's study is in config-service's store: completing it names its series.
    study = await generateStudy(join(workDir, 'generated'), { series: 2, instancesPerSeries: 2 });
    const uploaded = await uploadToStudyStore(service.baseUrl, service.apiKey, study.files);
    expect(uploaded.status).toBe(200);
    const station = randomId('MP', 4);
    for (let index = 0; index < 3; index++) {
      const worklist = await generateWorklist(peers.wlm.dir, {
        patient: { charset: 'ISO_IR 100' },
        scheduledStationAETitle: station,
        ...(index === 0 ? { studyInstanceUid: study.studyInstanceUid } : {}),
      });
      cleanups.push(() => rm(worklist.file, { force: true }));
      worklists.push(worklist);
    }
    pacsConfigId = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: peers.wlm.aet,
      name: 'RIS',
      host: peers.wlm.host,
      port: peers.wlm.port,
      mwl: true,
      mwlEncoding: 'ISO_IR 100',
      timeoutMs: 10_000,
    });
    const queried = await post('/worklist/query', {
      pacsConfigId,
      filters: { scheduledStationAeTitle: station },
    });
    expect(queried.status).toBe(200);
    for (const task of ((await queried.json()) as { tasks: Task[] }).tasks) {
      if (task.accessionNumber !== null) tasks.set(task.accessionNumber, task);
    }
    expect(tasks.size).toBe(3);
  });

  afterAll(async () => {
    await mwl?.stop();
    await service?.stop();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('409 while the configuration has no mpps; 404 for an unknown task', async () => {
    const problem = await expectProblem(await post(`/worklist/tasks/${taskOf(0).id}/start`), 409);
    expect(problem.type).toBe('https://pacslink.dev/problems/mpps-not-offered');
    expect(scp.received).toHaveLength(0);
    const unknown = await expectProblem(
      await post('/worklist/tasks/00000000-0000-4000-8000-000000000000/start'),
      404,
    );
    expect(unknown.type).toBe('https://pacslink.dev/problems/worklist-task-not-found');
  });

  it('start -> complete: the task goes from the list, the SCP received N-CREATE IN PROGRESS and N-SET COMPLETED naming the stored series', async () => {
    const patched = await service.call('PATCH', `/pacs-configs/${pacsConfigId}`, {
      host: '127.0.0.1',
      port: scp.port,
      aeTitle: 'MPPS_SCP',
      mpps: true,
    });
    expect(patched.status).toBe(200);
    const task = taskOf(0);
    expect(await listedIds()).toContain(task.id);

    const started = await post(`/worklist/tasks/${task.id}/start`);
    expect(started.status).toBe(200);
    const startedTask = (await started.json()) as Task;
    expect(startedTask).toMatchObject({ status: 'in-progress', mpps: { statusCode: 0, meaning: 'success' } });
    const again = await expectProblem(await post(`/worklist/tasks/${task.id}/start`), 409);
    expect(again.type).toBe('https://pacslink.dev/problems/worklist-task-state');

    const completed = await post(`/worklist/tasks/${task.id}/complete`);
    expect(completed.status).toBe(200);
    expect(await completed.json()).toMatchObject({ status: 'completed' });
    expect(await listedIds()).not.toContain(task.id);

    const uid = startedTask.mpps?.sopInstanceUid;
    const messages = scp.received.filter((request) => request.sopInstanceUid === uid);
    expect(messages.map((request) => [request.command, request.dataSet?.['00400252']?.Value])).toEqual([
      ['N-CREATE', ['IN PROGRESS']],
      ['N-SET', ['COMPLETED']],
    ]);
    const performed = (messages[1].dataSet?.['00400340']?.Value ?? []) as Record<
      string,
      { Value?: unknown[] }
    >[];
    expect(performed.map((item) => item['0020000E'].Value?.[0]).sort()).toEqual(
      study.series.map((series) => series.seriesInstanceUid).sort(),
    );
    const images = performed.flatMap((item) => item['00081140'].Value ?? []) as Record<
      string,
      { Value?: unknown[] }
    >[];
    expect(images.map((image) => image['00081155'].Value?.[0]).sort()).toEqual(
      study.series.flatMap((series) => series.instances.map((instance) => instance.sopInstanceUid)).sort(),
    );
    expect(scp.refusals).toEqual([]);
  });

  it('discontinue with a reason; a task whose study the store lacks cannot be completed (the SCP refuses, 502, the status kept)', async () => {
    const discontinued = taskOf(1);
    expect((await post(`/worklist/tasks/${discontinued.id}/start`)).status).toBe(200);
    const answer = await post(`/worklist/tasks/${discontinued.id}/discontinue`, { reason: '110514' });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ status: 'discontinued' });
    expect(await listedIds()).not.toContain(discontinued.id);
    const bad = await expectProblem(
      await post(`/worklist/tasks/${taskOf(2).id}/discontinue`, { reason: '1' }),
      400,
    );
    expect(bad.type).toBe('https://pacslink.dev/problems/validation');

    const empty = taskOf(2);
    const refused = await expectProblem(await post(`/worklist/tasks/${empty.id}/complete`), 502);
    expect(refused.detail).toContain('0x0121');
    const listed = await service.call('GET', `/worklist/tasks?pacsConfigId=${pacsConfigId}`);
    const stored = ((await listed.json()) as { items: Task[] }).items.find((item) => item.id === empty.id);
    expect(stored).toMatchObject({
      status: 'in-progress',
      mpps: { statusCode: 0x0121, meaning: 'missing attribute value' },
    });
  });

  it('each MPPS request is audited with its actor: started, completed, discontinued, and a refused one as failed; a 409/404 (nothing sent) is not', async () => {
    const entries = (await service.auditEntries()).filter((entry) => entry.entityType === 'worklist-task');
    const of = (index: number) =>
      entries
        .filter((entry) => entry.entityId === taskOf(index).id)
        .map((entry) => entry.action)
        .reverse();
    expect(of(0)).toEqual(['worklist-task.started', 'worklist-task.completed']);
    expect(of(1)).toEqual(['worklist-task.started', 'worklist-task.discontinued']);
    // N-CREATE accepted, N-SET refused (0x0121): the request failed
    expect(of(2)).toEqual(['worklist-task.complete-failed']);
    expect(entries).toHaveLength(5);
    for (const entry of entries) {
      expect(entry.actor).toBe(service.actor);
      expect(entry.change.pacsConfigId).toBe(pacsConfigId);
    }
    const completed = entries.find((entry) => entry.action === 'worklist-task.completed');
    expect(completed?.change).toMatchObject({
      before: 'in-progress',
      status: 'completed',
      performedSeries: 2,
      mppsStatusCode: 0,
    });
    expect(completed?.change.mppsSopInstanceUid).toMatch(/^2\.25\./);
    expect(entries.find((entry) => entry.action === 'worklist-task.discontinued')?.change).toMatchObject({
      reason: '110514',
      status: 'discontinued',
    });
    expect(entries.find((entry) => entry.action === 'worklist-task.complete-failed')?.change).toMatchObject({
      before: 'scheduled',
      error: 'mpps-failed',
    });
    // no patient in the audit: its entries are read by other people than the task's
    const names = worklists.map((worklist) => worklist.patient.name.split('^')[0]);
    for (const name of names) expect(JSON.stringify(entries)).not.toContain(name);
  });
});
