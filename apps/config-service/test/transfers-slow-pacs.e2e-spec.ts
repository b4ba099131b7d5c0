import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { deleteStudyFromOrthanc, startPeers, type PeerEndpoints } from '@pacslink/testing';
/* eslint-disable @nx/enforce-module-boundaries --
 * The PS3.8 peer scripted by libs/dimse's tests: it answers each C-STORE when and how a test asks,
 * encoded without our codecs. Test code only. */
import {
  startScriptedScp,
  type Conversation,
  type DimseCommand,
  type ScriptedScp,
} from '../../../libs/dimse/test/support/scripted-scp';
/* eslint-enable @nx/enforce-module-boundaries */
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { ExportCalls, sleep } from './export-calls';
import { startWorkers } from './workers.harness';

// Issue 10: a slow PACS beside a fast one. A PACS that answers late, or trickles its answer without
// ever being silent for a whole timeout, fails its batches on the configuration's timeoutMs; and
// slow PACS that hold every batch they may have out do not take a worker's whole capacity, so a
// fast PACS's transfer goes in its usual time. Real config-service, dimse-worker and
// dicomweb-worker over RabbitMQ and Postgres; Orthanc as the fast PACS; scripted slow peers.
jest.setTimeout(240_000);

const TIMEOUT_MS = 1_500;
const C_STORE = 0x0001;

/** An HTTP server of the test's own; `handle` answers each request once its body has arrived. */
async function httpPeer(
  handle: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => handle(request, response));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dicom-web`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('a slow PACS beside a fast one', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let peers: PeerEndpoints;
  let service: RunningConfigService;
  let calls: ExportCalls;
  let workDir: string;
  const workers: INestApplication[] = [];
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    peers = await startPeers();
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-slow-pacs-e2e-'));
    const storeDir = join(workDir, 'store');
    service = await startConfigService({
      env: {
        SECRETS_KEY: secretsKey,
        STORE_DIR: storeDir,
        TRANSFER_RETRY_BASE_MS: '300',
        TRANSFER_MAX_ATTEMPTS: '2',
      },
    });
    workers.push(...(await startWorkers(service.vhost.url, secretsKey, { STORE_DIR: storeDir })));
    calls = new ExportCalls(service, workDir);
    const settings = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(settings.status).toBe(200);
  });

  afterAll(async () => {
    for (const worker of workers) await worker.close();
    await service?.stop();
    for (const close of closers) await close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  /** A DIMSE PACS whose every C-STORE is answered by `answer`. */
  async function scriptedPacs(
    aeTitle: string,
    answer: (command: DimseCommand, conversation: Conversation) => void,
    fields: Record<string, unknown> = {},
  ): Promise<{ id: string; scp: ScriptedScp }> {
    const scp = await startScriptedScp(
      {
        onCommand: (command, conversation) =>
          command.commandField === C_STORE && answer(command, conversation),
      },
      aeTitle,
    );
    closers.push(() => scp.close());
    const id = await service.createPacsConfig({
      type: 'dimse',
      aeTitle,
      name: `scripted ${aeTitle}`,
      host: '127.0.0.1',
      port: scp.port,
      cStore: true,
      timeoutMs: TIMEOUT_MS,
      ...fields,
    });
    return { id, scp };
  }

  async function stowPacs(
    aeTitle: string,
    handle: (request: IncomingMessage, response: ServerResponse) => void,
    fields: Record<string, unknown> = {},
  ): Promise<string> {
    const peer = await httpPeer(handle);
    closers.push(() => peer.close());
    return service.createPacsConfig({
      type: 'dicomweb',
      aeTitle,
      name: `scripted ${aeTitle}`,
      url: peer.url,
      stowRs: true,
      auth: { method: 'none' },
      timeoutMs: TIMEOUT_MS,
      ...fields,
    });
  }

  it('a STOW-RS server that trickles its answer fails the batch on the timeout', async () => {
    // 200 at once, then a byte every third of the timeout: never silent for a whole timeout.
    const answer = Buffer.from(`{"00081199":{"vr":"SQ","Value":[]}}${' '.repeat(400)}`);
    const id = await stowPacs('TRICKLING_DW', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/dicom+json' });
      let sent = 0;
      const timer = setInterval(() => {
        if (response.destroyed || sent >= answer.length) {
          clearInterval(timer);
          if (!response.destroyed) response.end();
          return;
        }
        response.write(answer.subarray(sent, ++sent));
      }, TIMEOUT_MS / 3);
      response.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const transferId = await calls.export(id, await calls.storedStudy(2));
    const end = await calls.ended(transferId, 60_000);
    expect(end).toMatchObject({ status: 'failed', attempts: 2 });
    expect(end.error).toMatch(/within 1500 ms \(response timeout\)/);
    // Two attempts, each cut at the timeout, and the backoff between them.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('a C-STORE SCP that answers after the timeout, or trickles its answer, fails the batch on the timeout', async () => {
    const late = await scriptedPacs('LATE_SCP', (command, conversation) => {
      setTimeout(() => conversation.respond(command, 0x0000), 2 * TIMEOUT_MS);
    });
    const trickling = await scriptedPacs('TRICKLING_SCP', (command, conversation) =>
      conversation.trickleResponse(command, 0x0000, TIMEOUT_MS / 3),
    );
    const started = Date.now();
    const study = await calls.storedStudy(2);
    const ids = [await calls.export(late.id, study), await calls.export(trickling.id, study)];
    for (const transferId of ids) {
      const end = await calls.ended(transferId, 60_000);
      expect(end).toMatchObject({ status: 'failed', attempts: 2 });
      expect(end.error).toContain(
        'no answer within 1500 ms (response): the PACS accepted the association but did not answer the C-STORE request',
      );
    }
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(late.scp.log.connections).toBe(2);
    expect(trickling.scp.log.connections).toBe(2);
  });

  it('slow PACS holding every batch they may have out do not hold up a fast PACS', async () => {
    const fastDimse = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: peers.orthanc.aet,
      name: 'Orthanc over C-STORE',
      host: peers.orthanc.host,
      port: peers.orthanc.port,
      cStore: true,
      timeoutMs: 10_000,
    });
    const fastStow = await service.createPacsConfig({
      type: 'dicomweb',
      aeTitle: 'ORTHANC_DW',
      name: 'Orthanc over STOW-RS',
      url: peers.orthanc.dicomWebUrl,
      stowRs: true,
      auth: { method: 'basic', username: peers.orthanc.user, password: peers.orthanc.password },
      timeoutMs: 10_000,
    });
    const fastStudy = await calls.storedStudy(4);
    /** How long an export of the small study to a fast PACS takes, in ms. */
    const timed = async (pacsConfigId: string): Promise<number> => {
      await deleteStudyFromOrthanc(peers.orthanc, fastStudy.studyInstanceUid);
      const started = Date.now();
      const end = await calls.ended(await calls.export(pacsConfigId, fastStudy), 120_000);
      expect(end.status).toBe('completed');
      return Date.now() - started;
    };
    const alone = { dimse: await timed(fastDimse), stow: await timed(fastStow) };

    // Slow, not failing: each instance answered after 1 s, well inside a 10 s timeout. A DIMSE PACS
    // with 8 associations, and two STOW-RS servers answering one instance per request (each may
    // have 4 batches out): every batch a worker replica could hold at once (prefetch 8) before.
    const SLOW_ANSWER_MS = 1_000;
    const slowDimse = await scriptedPacs(
      'SLOW_SCP',
      (command, conversation) => setTimeout(() => conversation.respond(command, 0x0000), SLOW_ANSWER_MS),
      { maxAssociations: 8, timeoutMs: 10_000 },
    );
    const slowStow = (aeTitle: string) =>
      stowPacs(aeTitle, (_request, response) => setTimeout(() => response.end(), SLOW_ANSWER_MS), {
        stowMultipartRelated: false,
        timeoutMs: 10_000,
      });
    const slowStows = [await slowStow('SLOW_DW_1'), await slowStow('SLOW_DW_2')];
    // 10 instances a batch: each slow batch holds its worker's delivery for about 10 s.
    const slowStudy = await calls.storedStudy(80);
    const slowTransfers = [await calls.export(slowDimse.id, slowStudy)];
    for (const id of slowStows) slowTransfers.push(await calls.export(id, await calls.storedStudy(40)));
    // Every slow batch is being sent before the fast exports start.
    const sql = await service.connectSql();
    const running = async () =>
      (
        await sql.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM transfer_batch WHERE transfer_id = ANY($1::uuid[]) AND state = 'running'`,
          [slowTransfers],
        )
      ).rows[0].n;
    const deadline = Date.now() + 30_000;
    while ((await running()) < 16 && Date.now() < deadline) await sleep(100);
    expect(await running()).toBe(16);

    const beside = { dimse: await timed(fastDimse), stow: await timed(fastStow) };
    // Unaffected: about as fast as alone, and well before any slow batch (about 10 s each) could
    // have freed a slot; the margin allows for a loaded CI machine, not for waiting on a slot.
    for (const kind of ['dimse', 'stow'] as const) {
      expect(beside[kind]).toBeLessThan(Math.max(2 * alone[kind], alone[kind] + 6_000));
    }
    // The slow ones were slow, not failed.
    for (const id of slowTransfers) expect((await calls.ended(id, 120_000)).status).toBe('completed');
  });
});
