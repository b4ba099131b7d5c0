import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConsumerQueues,
  ExportBatchReports,
  StorageScpReports,
  type Envelope,
  type ExportBatchData,
  type ExportBatchFinishedData,
  type ImportBatchData,
  type ImportInstanceData,
  type InstanceOutcomeData,
  type TransferEventData,
} from '@pacslink/contracts';
import { StudyStore } from '@pacslink/store';
import { eventually, generateStudy, uploadToStudyStore, type GeneratedStudy } from '@pacslink/testing';
import { expectProblem, startConfigService, type RunningConfigService } from './config-service.harness';
import { ScriptedWorker } from './scripted-worker';

// Import (ADR 0008) through config-service on the real database and broker, the worker's side
// played by the test on the real queues (the workers' handlers are tested against real PACSs in
// their own suites): the plan and retrieve commands it dispatches, the claims and reports it takes,
// the files it indexes from the real study store, the Storage SCP's arrivals of a C-MOVE.
jest.setTimeout(180_000);

const LEASE_MS = 4_000;

interface TransferBody {
  id: string;
  status: string;
  method: string;
  fallback?: string;
  attempts: number;
  error?: string;
  progress: { total: number; completed: number; failed: number };
}

interface Command<T> {
  type: string;
  data: T;
}

type PlanData = ImportBatchData & { seriesInstanceUid?: string; target: { callingAeTitle?: string } };
type RetrieveData = ImportBatchData & {
  operation?: string;
  moveOnGetFailure?: boolean;
  moveDestinationAeTitle?: string;
};

describe('import through config-service, the worker played on the real broker', () => {
  let service: RunningConfigService;
  let worker: ScriptedWorker;
  let workDir: string;
  let store: StudyStore;
  const events: Envelope<TransferEventData>[] = [];

  const manifestOf = (study: GeneratedStudy): ImportInstanceData[] =>
    study.series.flatMap((series) =>
      series.instances.map((i) => ({
        sopInstanceUid: i.sopInstanceUid,
        seriesInstanceUid: series.seriesInstanceUid,
        sopClassUid: i.sopClassUid,
      })),
    );

  async function dimsePacs(aeTitle: string, columns: Record<string, unknown> = {}): Promise<string> {
    return service.createPacsConfig({
      type: 'dimse',
      aeTitle,
      name: `scripted ${aeTitle}`,
      host: '127.0.0.1',
      port: 104,
      queryRetrieve: true,
      moveDestinationAeTitle: 'PACSLINK',
      timeoutMs: 5_000,
      ...columns,
    });
  }

  async function startImport(pacsConfigId: string, study: GeneratedStudy, extra = {}): Promise<TransferBody> {
    const response = await service.call('POST', '/transfers', {
      direction: 'import',
      pacsConfigId,
      studyInstanceUid: study.studyInstanceUid,
      ...extra,
    });
    const body = (await response.json()) as TransferBody;
    if (response.status !== 202) throw new Error(`${response.status}: ${JSON.stringify(body)}`);
    return body;
  }

  async function transfer(id: string): Promise<TransferBody> {
    return (await (await service.call('GET', `/transfers/${id}`)).json()) as TransferBody;
  }

  function settled(id: string, status: string): Promise<TransferBody> {
    return eventually(`transfer ${id} to be ${status}`, async () => {
      const current = await transfer(id);
      return current.status === status ? current : undefined;
    });
  }

  /** The next command of the transfer in `queue`, acked (the test holds it as a worker would). */
  async function command<T>(
    transferId: string,
    queue: string = ConsumerQueues.DimseWorkerCommands.name,
  ): Promise<Command<T>> {
    for (;;) {
      const message = await worker.take(queue);
      worker.channel.ack(message);
      const envelope = JSON.parse(message.content.toString()) as Envelope<T & { transferId: string }>;
      if (envelope.data.transferId === transferId) return { type: envelope.type, data: envelope.data };
    }
  }

  async function claimed(data: { transferId: string; batchId: string; attempt: number }): Promise<string> {
    const claimant = randomUUID();
    expect(await worker.claim(data as ExportBatchData, claimant)).toEqual({ go: true });
    return claimant;
  }

  async function finished(
    data: { transferId: string; batchId: string; attempt: number },
    claimant: string,
    report: Partial<ExportBatchFinishedData> = {},
  ): Promise<void> {
    const { transferId, batchId, attempt } = data;
    await worker.publish(ExportBatchReports.Finished, {
      transferId,
      batchId,
      attempt,
      claimant,
      outcomes: [],
      ...report,
    });
  }

  /** Writes the study's files of these instances into STORE_DIR as a worker does; answers their outcomes. */
  async function stored(study: GeneratedStudy, uids: readonly string[]): Promise<InstanceOutcomeData[]> {
    const files = new Map(study.series.flatMap((s) => s.instances.map((i) => [i.sopInstanceUid, i.file])));
    const outcomes: InstanceOutcomeData[] = [];
    for (const sopInstanceUid of uids) {
      const file = await store.write(createReadStream(files.get(sopInstanceUid) as string));
      outcomes.push({ sopInstanceUid, status: 'success', path: file.path });
    }
    return outcomes;
  }

  /** The Storage SCP's report of an association that brought these files as a C-MOVE of `originator`. */
  async function arrived(
    pacsConfigId: string,
    outcomes: readonly InstanceOutcomeData[],
    originator = 'PACSLINK',
  ) {
    const paths = outcomes.map((o) => o.path as string);
    await worker.publish(StorageScpReports.Received, {
      associationId: randomUUID(),
      pacsConfigId,
      pacsAeTitle: 'SCRIPTED',
      callingAeTitle: 'SCRIPTED',
      paths,
      moves: [{ moveOriginatorAeTitle: originator, moveOriginatorMessageId: 1, paths }],
    });
  }

  async function batchesOf(transferId: string) {
    const sql = await service.connectSql();
    const { rows } = await sql.query<{ kind: string; state: string; attempt: number; failures: number }>(
      `SELECT kind, state, attempt, failures FROM transfer_batch WHERE transfer_id = $1 ORDER BY seq`,
      [transferId],
    );
    return rows;
  }

  const uidsOf = (instances: readonly ImportInstanceData[]) => instances.map((i) => i.sopInstanceUid);

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-import-e2e-'));
    const storeDir = join(workDir, 'store');
    store = new StudyStore(storeDir);
    service = await startConfigService({
      env: {
        STORE_DIR: storeDir,
        TRANSFER_RETRY_BASE_MS: '200',
        TRANSFER_LEASE_MS: String(LEASE_MS),
      },
    });
    worker = await ScriptedWorker.connect(service.vhost.url);
    await service.subscribe('transfer.#', (body) =>
      events.push(JSON.parse(body) as Envelope<TransferEventData>),
    );
    const response = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(response.status).toBe(200);
  });

  afterAll(async () => {
    await worker?.close();
    await service?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('C-GET: plans, leaves out what the store holds, retrieves the rest by series where whole, indexes the files', async () => {
    const study = await generateStudy(workDir, { series: 2, instancesPerSeries: 3 });
    const [first, second] = study.series;
    // One instance of the first series is in the store already: a resume fetches it not again.
    expect(
      (await uploadToStudyStore(service.baseUrl, service.apiKey, [first.instances[0].file])).status,
    ).toBe(200);
    const pacs = await dimsePacs('SCRIPTED_GET', {
      queryAeTitle: 'PACSLINK_QR',
      retrieveMethod: 'get-then-move',
    });

    const queued = await startImport(pacs, study);
    expect(queued).toMatchObject({ status: 'queued', method: 'C-GET', progress: { total: 0, completed: 0 } });
    const plan = await command<PlanData>(queued.id);
    expect(plan.type).toBe('dimse.import-plan');
    expect(plan.data).toMatchObject({
      studyInstanceUid: study.studyInstanceUid,
      attempt: 1,
      target: { callingAeTitle: 'PACSLINK_QR', calledAeTitle: 'SCRIPTED_GET', port: 104 },
    });
    const planner = await claimed(plan.data);
    await finished(plan.data, planner, { manifest: manifestOf(study) });

    const retrieve = await command<RetrieveData>(queued.id);
    expect(retrieve.type).toBe('dimse.import-batch');
    const wanted = [...first.instances.slice(1), ...second.instances].map((i) => i.sopInstanceUid).sort();
    expect(uidsOf(retrieve.data.instances).sort()).toEqual(wanted);
    // The first series is not whole in the batch (one of it is stored): instance level for it.
    expect(retrieve.data.wholeSeries).toEqual([second.seriesInstanceUid]);
    expect(retrieve.data).toMatchObject({
      operation: 'C-GET',
      moveOnGetFailure: true,
      moveDestinationAeTitle: 'PACSLINK',
      target: { callingAeTitle: 'PACSLINK_QR' },
    });
    expect(await transfer(queued.id)).toMatchObject({ progress: { total: 6, completed: 1, failed: 0 } });

    const retriever = await claimed(retrieve.data);
    const outcomes = await stored(study, wanted);
    await worker.publish(ExportBatchReports.Progress, {
      transferId: queued.id,
      batchId: retrieve.data.batchId,
      attempt: retrieve.data.attempt,
      claimant: retriever,
      outcomes: outcomes.slice(0, 2),
    });
    await eventually('the first outcomes', async () =>
      (await transfer(queued.id)).progress.completed === 3 ? true : undefined,
    );
    await finished(retrieve.data, retriever, { outcomes });
    const done = await settled(queued.id, 'completed');
    expect(done).toMatchObject({ method: 'C-GET', progress: { total: 6, completed: 6, failed: 0 } });
    expect(done.fallback).toBeUndefined();

    const indexed = (await (await service.call('GET', `/studies/${study.studyInstanceUid}`)).json()) as {
      instanceCount: number;
      seriesCount: number;
    };
    expect(indexed).toMatchObject({ instanceCount: 6, seriesCount: 2 });
    const already = (await (
      await service.call('GET', `/transfers/${queued.id}/instances?limit=10`)
    ).json()) as { items: { sopInstanceUid: string; status: string; reason?: string }[] };
    expect(
      already.items.filter((i) => i.reason === 'already in the study store').map((i) => i.sopInstanceUid),
    ).toEqual([first.instances[0].sopInstanceUid]);
    const types = await eventually('the events of the import', () => {
      const mine = events.filter((e) => e.data.transferId === queued.id).map((e) => e.type);
      return mine.includes('transfer.completed') ? mine : undefined;
    });
    expect(types[0]).toBe('transfer.queued');
    expect(types).toContain('transfer.started');
    expect(types.at(-1)).toBe('transfer.completed');
  });

  it('a file that is not the instance asked for is a failure, and a C-GET run that ended without some fails them', async () => {
    const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 3 });
    const other = await generateStudy(workDir, { series: 1, instancesPerSeries: 1 });
    const pacs = await dimsePacs('SCRIPTED_MISS', { retrieveMethod: 'get' });
    const queued = await startImport(pacs, study);
    const plan = await command<PlanData>(queued.id);
    await finished(plan.data, await claimed(plan.data), { manifest: manifestOf(study) });
    const retrieve = await command<RetrieveData>(queued.id);
    expect(retrieve.data).toMatchObject({ operation: 'C-GET', moveOnGetFailure: false });
    const [a, b, c] = uidsOf(retrieve.data.instances);
    const [good] = await stored(study, [a]);
    const [stranger] = await stored(other, [other.series[0].instances[0].sopInstanceUid]);
    await finished(retrieve.data, await claimed(retrieve.data), {
      outcomes: [good, { ...stranger, sopInstanceUid: b }],
    });
    const failed = await settled(queued.id, 'failed');
    expect(failed.progress).toEqual({ total: 3, completed: 1, failed: 2, warning: 0 });
    const refused = (await (
      await service.call('GET', `/transfers/${queued.id}/instances?status=failure`)
    ).json()) as { items: { sopInstanceUid: string; reason: string }[] };
    expect(Object.fromEntries(refused.items.map((i) => [i.sopInstanceUid, i.reason]))).toEqual({
      [b]: `the PACS sent instance ${other.series[0].instances[0].sopInstanceUid} for ${b}`,
      [c]: 'the PACS did not send it',
    });
    // The stranger's file is not in the index.
    expect((await service.call('GET', `/studies/${other.studyInstanceUid}`)).status).toBe(404);

    // A retry fetches only what is missing.
    expect((await service.call('POST', `/transfers/${queued.id}/retry`)).status).toBe(202);
    const again = await command<RetrieveData>(queued.id);
    expect(uidsOf(again.data.instances).sort()).toEqual([b, c].sort());
    const retriever = await claimed(again.data);
    await finished(again.data, retriever, { outcomes: await stored(study, [b, c]) });
    expect((await settled(queued.id, 'completed')).progress).toEqual({
      total: 3,
      completed: 3,
      failed: 0,
      warning: 0,
    });
  });

  it('C-MOVE: the batch waits for the Storage SCP after the run ended, and completes on the arrivals', async () => {
    const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 3 });
    const pacs = await dimsePacs('SCRIPTED_MOVE', { retrieveMethod: 'move' });
    const queued = await startImport(pacs, study);
    expect(queued.method).toBe('C-MOVE');
    const plan = await command<PlanData>(queued.id);
    await finished(plan.data, await claimed(plan.data), { manifest: manifestOf(study) });
    const retrieve = await command<RetrieveData>(queued.id);
    expect(retrieve.data).toMatchObject({
      operation: 'C-MOVE',
      moveOnGetFailure: false,
      wholeSeries: [study.series[0].seriesInstanceUid],
    });
    await finished(retrieve.data, await claimed(retrieve.data), {
      subOperations: { completed: 3, failed: 0, warning: 0 },
    });
    // The run is over, the instances are on their way: running, nothing failed.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await transfer(queued.id)).toMatchObject({
      status: 'running',
      progress: { completed: 0, failed: 0 },
    });
    const outcomes = await stored(study, uidsOf(retrieve.data.instances));
    // A push by another application's C-MOVE is not ours: it completes nothing.
    await arrived(pacs, outcomes.slice(0, 1), 'SOMEONE_ELSE');
    await arrived(pacs, outcomes.slice(0, 2));
    await eventually('two arrivals', async () =>
      (await transfer(queued.id)).progress.completed === 2 ? true : undefined,
    );
    await arrived(pacs, outcomes.slice(2));
    expect(await settled(queued.id, 'completed')).toMatchObject({
      method: 'C-MOVE',
      attempts: 1,
      progress: { completed: 3 },
    });
    // Closed by the last arrival, within the lease: no failed attempt, no second dispatch.
    expect(await batchesOf(queued.id)).toEqual([
      { kind: 'plan', state: 'done', attempt: 1, failures: 0 },
      { kind: 'retrieve', state: 'done', attempt: 1, failures: 0 },
    ]);
  });

  it('C-MOVE arrivals that never come: the batch goes again after its lease, for what is missing', async () => {
    const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 2 });
    const pacs = await dimsePacs('SCRIPTED_LOST', { retrieveMethod: 'move' });
    const queued = await startImport(pacs, study);
    const plan = await command<PlanData>(queued.id);
    await finished(plan.data, await claimed(plan.data), { manifest: manifestOf(study) });
    const retrieve = await command<RetrieveData>(queued.id);
    await finished(retrieve.data, await claimed(retrieve.data), {
      subOperations: { completed: 2, failed: 0, warning: 0 },
    });
    const [early, late] = await stored(study, uidsOf(retrieve.data.instances));
    await arrived(pacs, [early]);
    const again = await command<RetrieveData>(queued.id);
    expect(again.data).toMatchObject({ batchId: retrieve.data.batchId, attempt: retrieve.data.attempt + 1 });
    expect(uidsOf(again.data.instances)).toEqual([late.sopInstanceUid]);
    // Not the whole series any more: one of it arrived.
    expect(again.data.wholeSeries).toEqual([]);
    await finished(again.data, await claimed(again.data), {
      subOperations: { completed: 1, failed: 0, warning: 0 },
    });
    await arrived(pacs, [late]);
    expect(await settled(queued.id, 'completed')).toMatchObject({ attempts: 2, progress: { completed: 2 } });
  });

  it('get-then-move falls back: the transfer says C-MOVE and why, on GET and its events, and later batches go as C-MOVE', async () => {
    const study = await generateStudy(workDir, { series: 3, instancesPerSeries: 2 });
    const pacs = await dimsePacs('SCRIPTED_FALL', { retrieveMethod: 'get-then-move', maxAssociations: 2 });
    const queued = await startImport(pacs, study);
    const plan = await command<PlanData>(queued.id);
    await finished(plan.data, await claimed(plan.data), { manifest: manifestOf(study) });
    // Three series of two over two associations: a batch a series, two out at once.
    const firstBatch = await command<RetrieveData>(queued.id);
    const secondBatch = await command<RetrieveData>(queued.id);
    for (const batch of [firstBatch, secondBatch])
      expect(batch.data).toMatchObject({ operation: 'C-GET', moveOnGetFailure: true });
    const why = 'C-GET: the PACS rejected the presentation context of Study Root GET';
    const runner = await claimed(firstBatch.data);
    await worker.publish(ExportBatchReports.Progress, {
      transferId: queued.id,
      batchId: firstBatch.data.batchId,
      attempt: firstBatch.data.attempt,
      claimant: runner,
      outcomes: [],
      method: 'C-MOVE',
      fallback: why,
    });
    await eventually('the fallback on the transfer', async () =>
      (await transfer(queued.id)).method === 'C-MOVE' ? true : undefined,
    );
    expect(await transfer(queued.id)).toMatchObject({ method: 'C-MOVE', fallback: why });
    await finished(firstBatch.data, runner, { subOperations: { completed: 2, failed: 0, warning: 0 } });
    await arrived(pacs, await stored(study, uidsOf(firstBatch.data.instances)));
    const thirdBatch = await command<RetrieveData>(queued.id);
    expect(thirdBatch.data).toMatchObject({ operation: 'C-MOVE', moveOnGetFailure: false });
    const secondRunner = await claimed(secondBatch.data);
    await finished(secondBatch.data, secondRunner, {
      outcomes: await stored(study, uidsOf(secondBatch.data.instances)),
    });
    await finished(thirdBatch.data, await claimed(thirdBatch.data), {
      subOperations: { completed: 2, failed: 0, warning: 0 },
    });
    await arrived(pacs, await stored(study, uidsOf(thirdBatch.data.instances)));
    expect(await settled(queued.id, 'completed')).toMatchObject({ method: 'C-MOVE', fallback: why });
    const completed = await eventually('transfer.completed', () =>
      events.find((e) => e.data.transferId === queued.id && e.type === 'transfer.completed'),
    );
    expect(completed.data).toMatchObject({
      method: 'C-MOVE',
      fallback: why,
      progress: { total: 6, completed: 6 },
    });
  });

  it('cancels an import whose C-MOVE instances are on their way: late arrivals are indexed, nothing reopens', async () => {
    const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 2 });
    const pacs = await dimsePacs('SCRIPTED_CANCEL', { retrieveMethod: 'move' });
    const queued = await startImport(pacs, study);
    const plan = await command<PlanData>(queued.id);
    await finished(plan.data, await claimed(plan.data), { manifest: manifestOf(study) });
    const retrieve = await command<RetrieveData>(queued.id);
    await finished(retrieve.data, await claimed(retrieve.data), {
      subOperations: { completed: 2, failed: 0, warning: 0 },
    });
    await eventually('the batch waiting for its arrivals', async () =>
      (await batchesOf(queued.id)).some((b) => b.kind === 'retrieve' && b.state === 'running')
        ? true
        : undefined,
    );
    expect((await service.call('POST', `/transfers/${queued.id}/cancel`)).status).toBe(200);
    await arrived(pacs, await stored(study, uidsOf(retrieve.data.instances)));
    await eventually('the late arrivals indexed', async () =>
      (await service.call('GET', `/studies/${study.studyInstanceUid}`)).status === 200 ? true : undefined,
    );
    expect(await transfer(queued.id)).toMatchObject({ status: 'cancelled', progress: { completed: 0 } });
    expect((await batchesOf(queued.id)).map((b) => b.state)).toEqual(['done', 'cancelled']);
  });

  it('a configuration that stops offering import fails its active imports at the next dispatch', async () => {
    const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 1 });
    const pacs = await dimsePacs('SCRIPTED_OFF', { retrieveMethod: 'get', cStore: true });
    const queued = await startImport(pacs, study);
    const plan = await command<PlanData>(queued.id);
    expect((await service.call('PATCH', `/pacs-configs/${pacs}`, { queryRetrieve: false })).status).toBe(200);
    await finished(plan.data, await claimed(plan.data), { manifest: manifestOf(study) });
    expect((await settled(queued.id, 'failed')).error).toBe(
      'the PACS configuration no longer offers import (queryRetrieve is off)',
    );
  });

  it('the OpenAPI document shows the transfer method and fallback', async () => {
    const document = (await service.apiDocument()) as {
      components: { schemas: Record<string, { properties: Record<string, { description?: string }> }> };
    };
    const { properties } = document.components.schemas.TransferResponse;
    expect(properties.fallback.description).toMatch(/C-GET gave way to C-MOVE/);
    expect(properties.method).toMatchObject({ enum: ['STOW-RS', 'C-STORE', 'WADO-RS', 'C-GET', 'C-MOVE'] });
  });

  it('fails an import of a study the PACS does not hold, for good', async () => {
    const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 1 });
    const pacs = await dimsePacs('SCRIPTED_EMPTY');
    const queued = await startImport(pacs, study, { seriesInstanceUid: study.series[0].seriesInstanceUid });
    const plan = await command<PlanData>(queued.id);
    expect(plan.data.seriesInstanceUid).toBe(study.series[0].seriesInstanceUid);
    await finished(plan.data, await claimed(plan.data), { manifest: [] });
    expect((await settled(queued.id, 'failed')).error).toBe(
      `the PACS holds no instance of series ${study.series[0].seriesInstanceUid} of study ${study.studyInstanceUid}`,
    );
  });

  it('imports from DICOMweb by WADO-RS; refuses while transfers are off or the PACS offers no import; one transfer per Idempotency-Key', async () => {
    const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 1 });
    const web = await service.createPacsConfig({
      type: 'dicomweb',
      aeTitle: 'SCRIPTED_WEB',
      name: 'scripted DICOMweb',
      url: 'http://127.0.0.1:1/dicom-web',
      qidoRs: true,
      timeoutMs: 5_000,
    });
    const key = { 'idempotency-key': `import-${randomUUID()}` };
    const body = { direction: 'import', pacsConfigId: web, studyInstanceUid: study.studyInstanceUid };
    const first = await service.call('POST', '/transfers', body, undefined, key);
    expect(first.status).toBe(202);
    const made = (await first.json()) as TransferBody;
    expect(made.method).toBe('WADO-RS');
    const repeated = await service.call('POST', '/transfers', body, undefined, key);
    expect(((await repeated.json()) as TransferBody).id).toBe(made.id);
    const plan = await command<PlanData>(made.id, ConsumerQueues.DicomwebWorkerCommands.name);
    expect(plan.type).toBe('dicomweb.import-plan');
    expect(plan.data.target).toMatchObject({ url: 'http://127.0.0.1:1/dicom-web' });
    expect(await worker.depth(ConsumerQueues.DicomwebWorkerCommands.name)).toBe(0);

    const noQido = await service.createPacsConfig({
      type: 'dicomweb',
      aeTitle: 'SCRIPTED_STOW',
      name: 'STOW only',
      url: 'http://127.0.0.1:1/dicom-web',
      qidoRs: false,
      stowRs: true,
      timeoutMs: 5_000,
    });
    const refused = await expectProblem(
      await service.call('POST', '/transfers', { ...body, pacsConfigId: noQido }),
      409,
    );
    expect(refused).toMatchObject({
      type: 'https://pacslink.dev/problems/transfer-direction-not-offered',
      detail: 'PACS SCRIPTED_STOW does not offer import: enable qidoRs on it',
    });
    const noQr = await dimsePacs('SCRIPTED_NO_QR', { queryRetrieve: false, cStore: true });
    expect(
      (await expectProblem(await service.call('POST', '/transfers', { ...body, pacsConfigId: noQr }), 409))
        .detail,
    ).toBe('PACS SCRIPTED_NO_QR does not offer import: enable queryRetrieve on it');
    await service.call('PUT', '/settings', { allowTransfer: false, defaultCallingAeTitle: 'PACSLINK' });
    try {
      const off = await expectProblem(await service.call('POST', '/transfers', body), 409);
      expect(off.type).toBe('https://pacslink.dev/problems/transfer-transfer-disabled');
    } finally {
      await service.call('PUT', '/settings', { allowTransfer: true, defaultCallingAeTitle: 'PACSLINK' });
    }
  });
});
