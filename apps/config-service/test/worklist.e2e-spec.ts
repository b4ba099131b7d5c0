import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import {
  generateWorklist,
  randomId,
  startPeers,
  testEgressEnv,
  type GeneratedWorklist,
  type PeerEndpoints,
} from '@pacslink/testing';
import {
  expectFieldError,
  expectProblem,
  startConfigService,
  type RunningConfigService,
} from './config-service.harness';
import { startServiceProcess, type ServiceProcess } from './service-process.harness';

// The contract's "Worklist" through the running services: config-service builds the target from
// the configuration and asks mwl-mpps-service (its own process, JSON logs kept) over RabbitMQ,
// which queries DCMTK wlmscpfs. wlmscpfs answers without (0008,0005): the configuration's
// mwlEncoding must decode the names (ISO_IR 144 Cyrillic, ISO_IR 100 Latin-1).
jest.setTimeout(180_000);

interface Task {
  id: string;
  pacsConfigId: string;
  status: string;
  patientName: string | null;
  accessionNumber: string | null;
  scheduledProcedureStepDescription: string | null;
  warnings: string[];
}

describe('worklist through config-service and mwl-mpps-service', () => {
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  let mwl: ServiceProcess | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  const configs = {} as Record<'wlm' | 'noMwl' | 'dicomweb', string>;
  const worklists = {} as Record<'cyrillic' | 'latin1', GeneratedWorklist>;

  async function query(pacsConfigId: string, filters?: Record<string, unknown>): Promise<Task[]> {
    const response = await service.call('POST', '/worklist/query', { pacsConfigId, filters });
    const answer = (await response.json()) as { tasks: Task[]; unidentified: number };
    if (response.status !== 200) throw new Error(`${response.status}: ${JSON.stringify(answer)}`);
    expect(answer.unidentified).toBe(0);
    return answer.tasks;
  }

  async function tasks(search: string): Promise<{ items: Task[]; total: number }> {
    const response = await service.call('GET', `/worklist/tasks?${search}`);
    expect(response.status).toBe(200);
    return (await response.json()) as { items: Task[]; total: number };
  }

  beforeAll(async () => {
    peers = await startPeers();
    service = await startConfigService();
    mwl = await startServiceProcess('mwl-mpps-service', {
      DATABASE_URL: service.database.url,
      AMQP_URL: service.vhost.url,
      ...testEgressEnv(),
    });
    for (const charset of ['ISO_IR 144', 'ISO_IR 100'] as const) {
      const worklist = await generateWorklist(peers.wlm.dir, {
        patient: { charset },
        scheduledStationAETitle: randomId('ST', 4),
        scheduledDate: '20260315',
      });
      cleanups.push(() => rm(worklist.file, { force: true }));
      worklists[charset === 'ISO_IR 144' ? 'cyrillic' : 'latin1'] = worklist;
    }
    // One configuration per PACS address: the Latin-1 case PATCHes its mwlEncoding.
    configs.wlm = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: peers.wlm.aet,
      name: 'wlmscpfs',
      host: peers.wlm.host,
      port: peers.wlm.port,
      mwl: true,
      mwlEncoding: 'ISO_IR 144',
      timeoutMs: 10_000,
    });
    configs.noMwl = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: 'NO_WORKLIST',
      name: 'a PACS without worklist',
      host: '127.0.0.1',
      port: 1,
      cStore: true,
    });
    configs.dicomweb = await service.createPacsConfig({
      type: 'dicomweb',
      aeTitle: 'ORTHANC_DW',
      name: 'Orthanc over DICOMweb',
      url: peers.orthanc.dicomWebUrl,
      qidoRs: true,
    });
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await mwl?.stop();
    await service?.stop();
  });

  it('decodes names by the configuration’s mwlEncoding, in the step sequence too (Cyrillic, Latin-1)', async () => {
    for (const [name, mwlEncoding] of [
      ['cyrillic', 'ISO_IR 144'],
      ['latin1', 'ISO_IR 100'],
    ] as const) {
      const patched = await service.call('PATCH', `/pacs-configs/${configs.wlm}`, { mwlEncoding });
      expect(patched.status).toBe(200);
      const worklist = worklists[name];
      const found = await query(configs.wlm, {
        scheduledStationAeTitle: worklist.scheduledStationAETitle,
        scheduledDate: '20260301-20260331',
        modality: 'CT',
      });
      expect(found).toEqual([
        expect.objectContaining({
          pacsConfigId: configs.wlm,
          status: 'scheduled',
          patientName: worklist.patient.name,
          accessionNumber: worklist.accessionNumber,
          scheduledProcedureStepDescription:
            name === 'cyrillic' ? 'КТ с контрастом' : 'CT mit Kontrastmittel',
          warnings: [],
        }),
      ]);
    }
    expect(worklists.cyrillic.patient.name).toBe('Иванов^Иван');
    expect(worklists.latin1.patient.name).toBe('Müller^Jürgen');
  });

  it("reads Orthanc's worklist answers by their own (0008,0005), UTF-8, whatever mwlEncoding says", async () => {
    const worklist = await generateWorklist(peers.orthanc.worklistDir, {
      patient: { charset: 'ISO_IR 144' },
      scheduledStationAETitle: randomId('ST', 4),
    });
    cleanups.push(() => rm(worklist.file, { force: true }));
    const orthanc = await service.createPacsConfig({
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
    const found = await query(orthanc, { scheduledStationAeTitle: worklist.scheduledStationAETitle });
    expect(found).toEqual([
      expect.objectContaining({
        patientName: worklist.patient.name,
        scheduledProcedureStepDescription: 'КТ с контрастом',
        warnings: [],
      }),
    ]);
  });

  it('keeps one task per step: a second query answers and lists the same tasks, not more', async () => {
    const filters = { scheduledStationAeTitle: worklists.latin1.scheduledStationAETitle };
    const first = await query(configs.wlm, filters);
    const again = await query(configs.wlm, filters);
    expect(again.map((task) => task.id)).toEqual(first.map((task) => task.id));
    // Both steps queried in the first case, each once more here: two tasks, no more.
    const listed = await tasks(`pacsConfigId=${configs.wlm}`);
    expect(listed.total).toBe(2);
    expect(listed.items.map((task) => task.id)).toContain(first[0].id);
    expect(listed.items.map((task) => task.accessionNumber).sort()).toEqual(
      [worklists.cyrillic.accessionNumber, worklists.latin1.accessionNumber].sort(),
    );
    expect((await tasks(`pacsConfigId=${configs.wlm}&status=completed,discontinued`)).total).toBe(0);
    expect((await tasks(`pacsConfigId=${configs.wlm}&status=scheduled`)).total).toBe(2);
    expect((await tasks(`pacsConfigId=${randomUUID()}`)).total).toBe(0);
  });

  it('answers 409 for a configuration without a worklist, 404 for none, 400 naming a bad filter', async () => {
    for (const id of [configs.noMwl, configs.dicomweb]) {
      const problem = await expectProblem(
        await service.call('POST', '/worklist/query', { pacsConfigId: id }),
        409,
      );
      expect(problem.type).toBe('https://pacslink.dev/problems/worklist-not-offered');
      expect(problem.detail).toContain('does not offer a Modality Worklist');
    }
    await expectProblem(await service.call('POST', '/worklist/query', { pacsConfigId: randomUUID() }), 404);
    await expectFieldError(
      await service.call('POST', '/worklist/query', {
        pacsConfigId: configs.wlm,
        filters: { scheduledDate: '2026-03-15' },
      }),
      'filters.scheduledDate',
    );
    await expectFieldError(await service.call('GET', '/worklist/tasks?status=done'), 'status');
  });

  it('answers 502 naming the PACS when the C-FIND fails (nothing listens there)', async () => {
    const closed = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: 'CLOSED_WLM',
      name: 'a worklist nobody serves',
      host: '127.0.0.1',
      port: 1,
      mwl: true,
      timeoutMs: 2_000,
    });
    const problem = await expectProblem(
      await service.call('POST', '/worklist/query', { pacsConfigId: closed }),
      502,
    );
    expect(problem.type).toBe('https://pacslink.dev/problems/worklist-query-failed');
    expect(problem.detail).toMatch(/^the worklist query of "CLOSED_WLM" failed: .*refused/);
  });

  it('is documented in OpenAPI', async () => {
    const document = (await service.apiDocument()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(Object.keys(document.paths['/api/v1/worklist/query'].post.responses)).toEqual(
      expect.arrayContaining(['200', '400', '404', '409', '502', '503']),
    );
    expect(Object.keys(document.paths['/api/v1/worklist/tasks'].get.responses)).toEqual(
      expect.arrayContaining(['200', '503']),
    );
  });

  it('logs no patient name or ID in mwl-mpps-service', () => {
    const logs = JSON.stringify(mwl?.logs ?? []);
    expect(logs).toContain('worklist queried');
    for (const worklist of Object.values(worklists)) {
      for (const text of [...worklist.patient.name.split('^'), worklist.patient.id]) {
        expect(logs).not.toContain(text);
      }
    }
  });
});

describe('worklist with mwl-mpps-service not running', () => {
  let service: RunningConfigService;

  beforeAll(async () => {
    service = await startConfigService();
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('answers 503 naming the service, for a query and for the list', async () => {
    const id = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: 'LONELY_WLM',
      name: 'nobody asks me',
      host: '127.0.0.1',
      port: 104,
      mwl: true,
      timeoutMs: 1_000,
    });
    const query = await expectProblem(
      await service.call('POST', '/worklist/query', { pacsConfigId: id }),
      503,
    );
    expect(query.detail).toBe('no mwl-mpps-service answered within 6000 ms — is it running?');
    const list = await expectProblem(await service.call('GET', '/worklist/tasks'), 503);
    expect(list.detail).toBe('no mwl-mpps-service answered within 10000 ms — is it running?');
  });
});
