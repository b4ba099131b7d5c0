import { randomBytes } from 'node:crypto';
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import {
  TcpProxy,
  eventually,
  uploadToStudyStore,
  baseUrlOf,
  deleteStudyFromOrthanc,
  generateStudy,
  orthancRest,
  startPeers,
  startRejectingOrthanc,
  type GeneratedStudy,
  type OrthancPeer,
  type PeerEndpoints,
  type RejectingOrthanc,
} from '@pacslink/testing';
import { expectProblem, startConfigService, type RunningConfigService } from './config-service.harness';
import { startWorkers } from './workers.harness';

// The contract's "Transfers" (export) through the running services: a study uploaded to the study
// store goes to real peers — Orthanc over C-STORE and STOW-RS, DCMTK storescp over C-STORE — and
// the transfer.* events are watched on a queue bound to pacslink.events.
jest.setTimeout(240_000);

interface TransferBody {
  id: string;
  status: string;
  method: string;
  attempts: number;
  error?: string;
  progress: { total: number; completed: number; failed: number; warning: number };
}

interface TransferEvent {
  eventId: string;
  type: string;
  data: TransferBody & { transferId: string; pacsAeTitle: string; studyInstanceUid: string };
}

/** The value of Pixel Data (7FE0,0010) in an Explicit VR Little Endian file with a defined length. */
function pixelDataOf(file: Buffer): Buffer {
  const at = file.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  if (at < 0) throw new Error('no Pixel Data element');
  const length = file.readUInt32LE(at + 8);
  return file.subarray(at + 12, at + 12 + length);
}

describe('transfers (export) through the running services', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  const workers: INestApplication[] = [];
  let workDir: string;
  let storeDir: string;
  let study: GeneratedStudy;
  const events: TransferEvent[] = [];
  const configs: Record<string, string> = {};

  const create = (body: Record<string, unknown>) => service.createPacsConfig(body);

  async function setAllowTransfer(allowTransfer: boolean): Promise<void> {
    const response = await service.call('PUT', '/settings', {
      allowTransfer,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(response.status).toBe(200);
  }

  async function exportStudy(
    pacsConfigId: string,
    headers: Record<string, string> = {},
    studyInstanceUid = study.studyInstanceUid,
  ): Promise<TransferBody> {
    const response = await service.call(
      'POST',
      '/transfers',
      { direction: 'export', pacsConfigId, studyInstanceUid },
      undefined,
      headers,
    );
    const body = (await response.json()) as TransferBody;
    if (response.status !== 202) throw new Error(`${response.status}: ${JSON.stringify(body)}`);
    return body;
  }

  async function transfer(id: string): Promise<TransferBody> {
    const response = await service.call('GET', `/transfers/${id}`);
    expect(response.status).toBe(200);
    return (await response.json()) as TransferBody;
  }

  function terminalEvent(id: string): Promise<TransferEvent> {
    return eventually(`a terminal event of transfer ${id}`, () =>
      events.find(
        (event) =>
          event.data.transferId === id &&
          ['transfer.completed', 'transfer.failed', 'transfer.cancelled'].includes(event.type),
      ),
    );
  }

  function eventTypesOf(id: string): string[] {
    return events.filter((event) => event.data.transferId === id).map((event) => event.type);
  }

  /** Every instance of the study is in this Orthanc, with the very pixel data we stored. */
  async function expectStudyIn(orthanc: Pick<OrthancPeer, 'httpUrl' | 'user' | 'password'>): Promise<void> {
    for (const instance of study.series.flatMap((series) => series.instances)) {
      const found = (await orthancRest(orthanc, 'POST', '/tools/find', {
        Level: 'Instance',
        Query: { SOPInstanceUID: instance.sopInstanceUid },
      })) as string[];
      expect(found).toHaveLength(1);
      const response = await fetch(new URL(`/instances/${found[0]}/file`, orthanc.httpUrl), {
        headers: {
          authorization: `Basic ${Buffer.from(`${orthanc.user}:${orthanc.password}`).toString('base64')}`,
        },
      });
      const received = Buffer.from(await response.arrayBuffer());
      expect(pixelDataOf(received).equals(pixelDataOf(await readFile(instance.file)))).toBe(true);
    }
  }

  beforeAll(async () => {
    peers = await startPeers();
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-transfers-e2e-'));
    storeDir = join(workDir, 'store');
    service = await startConfigService({
      env: {
        SECRETS_KEY: secretsKey,
        STORE_DIR: storeDir,
        TRANSFER_RETRY_BASE_MS: '300',
        TRANSFER_MAX_ATTEMPTS: '30',
      },
    });
    workers.push(...(await startWorkers(service.vhost.url, secretsKey, { STORE_DIR: storeDir })));
    await service.subscribe('transfer.#', (body) => events.push(JSON.parse(body) as TransferEvent));
    await setAllowTransfer(true);

    study = await generateStudy(workDir, {
      series: 2,
      instancesPerSeries: 5,
      patient: { name: 'Петров^Анна', charset: 'ISO_IR 144' },
    });
    const upload = await uploadToStudyStore(service.baseUrl, service.apiKey, study.files);
    expect(upload.status).toBe(200);

    configs.cstore = await create({
      type: 'dimse',
      aeTitle: peers.orthanc.aet,
      name: 'Orthanc over C-STORE',
      host: peers.orthanc.host,
      port: peers.orthanc.port,
      cStore: true,
      maxAssociations: 2,
      timeoutMs: 10_000,
    });
    configs.storescp = await create({
      type: 'dimse',
      aeTitle: peers.storescp.aet,
      name: 'DCMTK storescp',
      host: peers.storescp.host,
      port: peers.storescp.port,
      cStore: true,
      timeoutMs: 10_000,
    });
    configs.stow = await create({
      type: 'dicomweb',
      aeTitle: 'ORTHANC_DW',
      name: 'Orthanc over STOW-RS',
      url: peers.orthanc.dicomWebUrl,
      stowRs: true,
      auth: { method: 'basic', username: peers.orthanc.user, password: peers.orthanc.password },
      timeoutMs: 10_000,
    });
  });

  afterAll(async () => {
    for (const worker of workers) await worker.close();
    await service?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('exports by C-STORE over two associations: the study arrives whole in Orthanc, events in order', async () => {
    await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    const queued = await exportStudy(configs.cstore);
    expect(queued).toMatchObject({
      status: 'queued',
      method: 'C-STORE',
      progress: { total: 10, completed: 0 },
    });

    const end = await terminalEvent(queued.id);
    expect(end.type).toBe('transfer.completed');
    expect(end.data).toMatchObject({
      pacsAeTitle: peers.orthanc.aet,
      studyInstanceUid: study.studyInstanceUid,
      status: 'completed',
      method: 'C-STORE',
      progress: { total: 10, completed: 10, failed: 0, warning: 0 },
    });
    const types = eventTypesOf(queued.id);
    expect(types[0]).toBe('transfer.queued');
    expect(types[1]).toBe('transfer.started');
    expect(types.at(-1)).toBe('transfer.completed');
    // No patient names or IDs on any event (contract).
    const published = JSON.stringify(events.filter((event) => event.data.transferId === queued.id));
    expect(published).not.toContain('Петров');
    expect(published).not.toContain(study.patient.id);

    expect(await transfer(queued.id)).toMatchObject({ status: 'completed', attempts: 1 });
    await expectStudyIn(peers.orthanc);

    const metrics = await (await fetch(`${baseUrlOf(workers[1])}/metrics`)).text();
    const sent = /^pacslink_export_instances_total\{method="C-STORE",outcome="success"[^}]*\} (\d+)$/m.exec(
      metrics,
    );
    expect(Number(sent?.[1])).toBeGreaterThanOrEqual(10);
  });

  it('exports by C-STORE to DCMTK storescp, the events streamed as Server-Sent Events too', async () => {
    const controller = new AbortController();
    const sse = await fetch(`${service.baseUrl}/api/v1/events?types=transfer.*`, {
      headers: { authorization: `Bearer ${service.apiKey}` },
      signal: controller.signal,
    });
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
    const queued = await exportStudy(configs.storescp);
    let text = '';
    const completed = new RegExp(`event: transfer\\.completed\ndata: [^\n]*"transferId":"${queued.id}"`);
    while (!completed.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    controller.abort();
    expect(text).toMatch(
      new RegExp(`id: [0-9a-f-]{36}\nevent: transfer\\.queued\ndata: \\{.*"transferId":"${queued.id}"`),
    );
    expect(text).toContain('event: transfer.completed\n');
    expect((await terminalEvent(queued.id)).type).toBe('transfer.completed');
    const received = await readdir(peers.storescp.dir);
    for (const instance of study.series.flatMap((series) => series.instances)) {
      expect(received.some((name) => name.endsWith(instance.sopInstanceUid))).toBe(true);
    }
  });

  it('exports by STOW-RS (multipart/related): the study arrives whole in Orthanc', async () => {
    await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    const queued = await exportStudy(configs.stow);
    expect(queued.method).toBe('STOW-RS');
    const end = await terminalEvent(queued.id);
    expect(end).toMatchObject({
      type: 'transfer.completed',
      data: { progress: { completed: 10, failed: 0 } },
    });
    await expectStudyIn(peers.orthanc);
  });

  it('names the one instance a STOW-RS server refused, and a retry resends only that one', async () => {
    // Orthanc stops reading a STOW-RS request at the part it refuses (libs/dicomweb/README.md):
    // the refused instance must be the last one sent, i.e. last in (series, SOP instance) order.
    const [refused] = study.series
      .flatMap((series) =>
        series.instances.map((instance) => [series.seriesInstanceUid, instance.sopInstanceUid]),
      )
      .sort(([a, b], [c, d]) => (a === c ? (b < d ? -1 : 1) : a < c ? -1 : 1))
      .map(([, sopInstanceUid]) => sopInstanceUid)
      .slice(-1);
    let rejecting: RejectingOrthanc | undefined;
    try {
      rejecting = await startRejectingOrthanc({ rejectSopInstanceUids: [refused] });
      const id = await create({
        type: 'dicomweb',
        aeTitle: 'REJECTING',
        name: 'Orthanc that refuses one instance',
        url: rejecting.dicomWebUrl,
        stowRs: true,
        auth: { method: 'basic', username: rejecting.user, password: rejecting.password },
        timeoutMs: 10_000,
      });
      const queued = await exportStudy(id);
      const end = await terminalEvent(queued.id);
      expect(end.type).toBe('transfer.failed');
      expect(end.data.progress).toEqual({ total: 10, completed: 9, failed: 1, warning: 0 });
      expect(end.data.error).toContain(refused);

      const failures = await service.call('GET', `/transfers/${queued.id}/instances?status=failure`);
      expect(await failures.json()).toMatchObject({
        total: 1,
        items: [{ sopInstanceUid: refused, status: 'failure', reason: expect.any(String) as unknown }],
      });

      const retried = await service.call('POST', `/transfers/${queued.id}/retry`);
      expect(retried.status).toBe(202);
      expect(await retried.json()).toMatchObject({ status: 'queued', progress: { completed: 9, failed: 0 } });
      await eventually('the retry to fail again', async () => {
        const current = await transfer(queued.id);
        return current.status === 'failed' ? current : undefined;
      });
      const sql = await service.connectSql();
      // The retry made one new batch (the last), holding only the refused instance; the instances
      // the PACS accepted stayed with the batches that sent them the first time.
      const { rows } = await sql.query<{ seq: number; instances: (string | null)[] }>(
        `SELECT b.seq, array_agg(i.sop_instance_uid) AS instances FROM transfer_batch b
           LEFT JOIN transfer_instance i ON i.batch_id = b.id
          WHERE b.transfer_id = $1 GROUP BY b.seq ORDER BY b.seq`,
        [queued.id],
      );
      expect(rows.at(-1)?.instances).toEqual([refused]);
      expect(rows.slice(0, -1).flatMap((row) => row.instances.filter(Boolean))).toHaveLength(9);
    } finally {
      await rejecting?.stop();
    }
  });

  it('a PACS that is down when the transfer starts gets the study once it comes up', async () => {
    await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
    const proxy = await new TcpProxy(peers.orthanc.host, peers.orthanc.port).start();
    try {
      const id = await create({
        type: 'dimse',
        aeTitle: 'ORTHANC_LATER',
        name: 'Orthanc behind a cut link',
        host: '127.0.0.1',
        port: proxy.port,
        cStore: true,
        timeoutMs: 5_000,
      });
      await proxy.cut();
      const queued = await exportStudy(id);
      await eventually('a second attempt', async () =>
        (await transfer(queued.id)).attempts >= 2 ? true : undefined,
      );
      expect((await transfer(queued.id)).status).toBe('running');
      await proxy.restore();
      const end = await terminalEvent(queued.id);
      expect(end).toMatchObject({ type: 'transfer.completed', data: { progress: { completed: 10 } } });
      await expectStudyIn(peers.orthanc);
    } finally {
      await proxy.close();
    }
  });

  it('cancels a transfer that waits for its PACS, and retries it', async () => {
    const proxy = await new TcpProxy(peers.storescp.host, peers.storescp.port).start();
    try {
      const id = await create({
        type: 'dimse',
        aeTitle: 'STORESCP_LATER',
        name: 'storescp behind a cut link',
        host: '127.0.0.1',
        port: proxy.port,
        cStore: true,
        timeoutMs: 5_000,
      });
      await proxy.cut();
      const queued = await exportStudy(id);
      const cancelled = await service.call('POST', `/transfers/${queued.id}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(await cancelled.json()).toMatchObject({ status: 'cancelled' });
      expect((await terminalEvent(queued.id)).type).toBe('transfer.cancelled');
      await expectProblem(await service.call('POST', `/transfers/${queued.id}/cancel`), 409);

      await proxy.restore();
      const retried = await service.call('POST', `/transfers/${queued.id}/retry`);
      expect(retried.status).toBe(202);
      const done = await eventually('the retried transfer to complete', async () => {
        const current = await transfer(queued.id);
        return current.status === 'completed' ? current : undefined;
      });
      expect(done.progress).toEqual({ total: 10, completed: 10, failed: 0, warning: 0 });
      await expectProblem(await service.call('POST', `/transfers/${queued.id}/retry`), 409);
    } finally {
      await proxy.close();
    }
  });

  it('answers the same transfer to the same Idempotency-Key, and refuses the key for another request', async () => {
    const key = `export-${randomBytes(6).toString('hex')}`;
    const first = await exportStudy(configs.storescp, { 'idempotency-key': key });
    const second = await exportStudy(configs.storescp, { 'idempotency-key': key });
    expect(second.id).toBe(first.id);
    const listed = await service.call('GET', `/transfers?pacsConfigId=${configs.storescp}&limit=500`);
    const ids = ((await listed.json()) as { items: TransferBody[] }).items.map((item) => item.id);
    expect(ids.filter((id) => id === first.id)).toHaveLength(1);
    const other = await service.call(
      'POST',
      '/transfers',
      { direction: 'export', pacsConfigId: configs.cstore, studyInstanceUid: study.studyInstanceUid },
      undefined,
      { 'idempotency-key': key },
    );
    expect((await expectProblem(other, 422)).detail).toContain(first.id);
    await terminalEvent(first.id);
  });

  it('refuses what cannot be transferred, each with its reason', async () => {
    const body = {
      direction: 'export',
      pacsConfigId: configs.cstore,
      studyInstanceUid: study.studyInstanceUid,
    };
    await setAllowTransfer(false);
    try {
      expect((await expectProblem(await service.call('POST', '/transfers', body), 409)).detail).toMatch(
        /allowTransfer/,
      );
    } finally {
      await setAllowTransfer(true);
    }
    const noExport = await create({
      type: 'dimse',
      aeTitle: 'NO_EXPORT',
      name: 'query only',
      host: '127.0.0.1',
      port: 104,
      queryRetrieve: true,
      timeoutMs: 1_000,
    });
    await expectProblem(await service.call('POST', '/transfers', { ...body, pacsConfigId: noExport }), 409);
    const unknownStudy = await expectProblem(
      await service.call('POST', '/transfers', { ...body, studyInstanceUid: '1.2.3.4.5' }),
      422,
    );
    expect(unknownStudy.errors).toEqual([
      { field: 'studyInstanceUid', message: expect.any(String) as unknown },
    ]);
    await expectProblem(
      await service.call('POST', '/transfers', {
        ...body,
        pacsConfigId: '00000000-0000-4000-8000-000000000000',
      }),
      422,
    );
    const badUid = await expectProblem(
      await service.call('POST', '/transfers', { ...body, studyInstanceUid: '1.2.abc' }),
      400,
    );
    expect(badUid.errors).toEqual([
      {
        field: 'studyInstanceUid',
        message:
          'studyInstanceUid is not a valid UID (PS3.5 9.1): it may hold only digits and periods (found U+0061)',
      },
    ]);
    // An export-only configuration does not offer import (import itself: import-*.e2e-spec.ts).
    const noImport = await expectProblem(
      await service.call('POST', '/transfers', { ...body, direction: 'import' }),
      409,
    );
    expect(noImport.type).toBe('https://pacslink.dev/problems/transfer-direction-not-offered');
    expect(noImport.detail).toMatch(/does not offer import: enable queryRetrieve/);
    await expectProblem(await service.call('GET', '/transfers/00000000-0000-4000-8000-000000000000'), 404);
    const badTypes = await expectProblem(
      await service.call('GET', '/events?types=transfer.*,DROP%20TABLE'),
      400,
    );
    expect(badTypes.errors?.[0].field).toBe('types');
    await expectProblem(
      await service.call('POST', '/transfers', body, undefined, { 'idempotency-key': 'has space' }),
      400,
    );
  });
});
