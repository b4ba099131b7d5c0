import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { currentOwner, temporaryFileName } from '@pacslink/store';
import {
  deleteStudyFromOrthanc,
  eventually,
  generateStudy,
  multipartRelated,
  newUid,
  orthancRest,
  runDcmtk,
  startPeers,
  type GeneratedStudy,
  type PeerEndpoints,
} from '@pacslink/testing';
import { expectProblem, startConfigService, type RunningConfigService } from './config-service.harness';
import { startDimseWorker } from './workers.harness';

// A re-upload must not move an instance whose file an active transfer reads (issue 10, defect 6),
// and a batch carries the files the study store's index holds when it is dispatched. The export
// runs for real: config-service, a dimse-worker, and a PACS that accepts the connection and then
// says nothing (slow), so the batch stays unfinished for as long as the test needs.
jest.setTimeout(180_000);

interface TransferBody {
  id: string;
  status: string;
  error?: string;
}

interface UploadAnswer {
  stored: { sopInstanceUid: string; studyInstanceUid: string }[];
  failed: { part: number; sopInstanceUid?: string; transferId?: string; reason: string }[];
}

/** A DICOM "PACS" that takes the TCP connection and never answers the A-ASSOCIATE-RQ. */
async function silentPacs(): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return { server, port, close };
}

describe('a re-upload while a transfer of the study is active', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let peers: PeerEndpoints;
  let pacs: Awaited<ReturnType<typeof silentPacs>>;
  let service: RunningConfigService;
  let worker: INestApplication;
  let workDir: string;
  let storeDir: string;
  let slowConfig: string;
  let leftovers: string[];

  async function upload(files: readonly Buffer[]): Promise<Response> {
    const boundary = `pacslink-${randomBytes(8).toString('hex')}`;
    return fetch(`${service.baseUrl}/api/v1/studies`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${service.apiKey}`,
        'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      },
      body: multipartRelated(files, boundary),
    });
  }

  async function transfer(id: string): Promise<TransferBody> {
    const response = await service.call('GET', `/transfers/${id}`);
    expect(response.status).toBe(200);
    return (await response.json()) as TransferBody;
  }

  async function exportTo(pacsConfigId: string, studyInstanceUid: string): Promise<string> {
    const response = await service.call('POST', '/transfers', {
      direction: 'export',
      pacsConfigId,
      studyInstanceUid,
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as TransferBody).id;
  }

  /** A copy of `file` whose dataset says another study and series: the same SOP Instance UID moved. */
  async function moved(file: string, studyInstanceUid: string, seriesInstanceUid: string): Promise<Buffer> {
    const copy = join(workDir, `moved-${randomBytes(4).toString('hex')}.dcm`);
    await copyFile(file, copy);
    await runDcmtk('dcmodify', [
      '-nb',
      '-m',
      `(0020,000D)=${studyInstanceUid}`,
      '-m',
      `(0020,000E)=${seriesInstanceUid}`,
      copy,
    ]);
    return readFile(copy);
  }

  async function instanceCount(studyInstanceUid: string): Promise<number | undefined> {
    const response = await service.call('GET', `/studies/${studyInstanceUid}`);
    if (response.status === 404) return undefined;
    return ((await response.json()) as { instanceCount: number }).instanceCount;
  }

  beforeAll(async () => {
    peers = await startPeers();
    pacs = await silentPacs();
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-studies-in-transfer-'));
    storeDir = join(workDir, 'store');
    // What crashed writers left: a file of a process of this host that no longer runs, one of
    // another replica that nobody wrote to for two hours. config-service sweeps both at start-up.
    await mkdir(join(storeDir, 'tmp'), { recursive: true });
    leftovers = [
      temporaryFileName({ host: currentOwner().host, pid: 2 ** 22 + 1 }),
      temporaryFileName({ host: 'replica-2~4026531836', pid: 7 }),
    ];
    for (const name of leftovers) await writeFile(join(storeDir, 'tmp', name), 'DICM half a file');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(join(storeDir, 'tmp', leftovers[1]), twoHoursAgo, twoHoursAgo);

    service = await startConfigService({
      env: {
        SECRETS_KEY: secretsKey,
        STORE_DIR: storeDir,
        TRANSFER_RETRY_BASE_MS: '300',
        TRANSFER_MAX_ATTEMPTS: '30',
      },
    });
    worker = await startDimseWorker(service.vhost.url, secretsKey, { STORE_DIR: storeDir });
    const settings = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(settings.status).toBe(200);
    slowConfig = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: 'SILENT',
      name: 'a PACS that does not answer',
      host: '127.0.0.1',
      port: pacs.port,
      cStore: true,
      maxAssociations: 1,
      timeoutMs: 120_000,
    });
  });

  afterAll(async () => {
    // The silent PACS first: the worker's association ends, so the worker can stop at once.
    await pacs?.close();
    await worker?.close();
    await service?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('swept STORE_DIR/tmp of what crashed writers left, at start-up', async () => {
    await eventually('the leftovers removed', async () =>
      (await readdir(join(storeDir, 'tmp'))).some((name) => leftovers.includes(name)) ? undefined : true,
    );
  });

  describe('moving an instance of a study being exported', () => {
    let study: GeneratedStudy;
    let transferId: string;
    const otherStudy = newUid();
    const otherSeries = newUid();

    beforeAll(async () => {
      study = await generateStudy(join(workDir, 'a'), { series: 1, instancesPerSeries: 2 });
      expect((await upload(await Promise.all(study.files.map((file) => readFile(file))))).status).toBe(200);
      transferId = await exportTo(slowConfig, study.studyInstanceUid);
      // Claimed and being sent: the worker waits on the PACS's answer.
      await eventually('the transfer running', async () =>
        (await transfer(transferId)).status === 'running' ? true : undefined,
      );
    });

    it('refuses the move in the per-instance answer, naming the transfer and the instance, and stores the rest', async () => {
      const [first, second] = study.series[0].instances;
      const newcomer = await generateStudy(join(workDir, 'b'), { series: 1, instancesPerSeries: 1 });
      const response = await upload([
        await moved(first.file, otherStudy, otherSeries),
        await readFile(newcomer.files[0]),
      ]);
      expect(response.status).toBe(202);
      const answer = (await response.json()) as UploadAnswer;
      expect(answer.stored.map((part) => part.studyInstanceUid)).toEqual([newcomer.studyInstanceUid]);
      expect(answer.failed).toEqual([
        {
          part: 1,
          sopInstanceUid: first.sopInstanceUid,
          transferId,
          reason: expect.stringContaining(transferId) as unknown,
        },
      ]);
      expect(answer.failed[0].reason).toContain(first.sopInstanceUid);
      expect(answer.failed[0].reason).toContain(`study ${otherStudy}`);

      // Nothing moved: the study keeps both instances and the transfer's files are in place.
      expect(await instanceCount(study.studyInstanceUid)).toBe(2);
      expect(await instanceCount(otherStudy)).toBeUndefined();
      const kept = join(storeDir, 'studies', study.studyInstanceUid, study.series[0].seriesInstanceUid);
      expect((await readdir(kept)).sort()).toEqual(
        [`${first.sopInstanceUid}.dcm`, `${second.sopInstanceUid}.dcm`].sort(),
      );
      expect(
        (await readFile(join(kept, `${first.sopInstanceUid}.dcm`))).equals(await readFile(first.file)),
      ).toBe(true);
      // The refused copy was not left behind in the other study's folder.
      const leftBehind = await readdir(join(storeDir, 'studies', otherStudy), {
        recursive: true,
        withFileTypes: true,
      });
      expect(leftBehind.filter((entry) => entry.isFile())).toEqual([]);
    });

    it('answers a lone refused instance with 409, naming the transfer and the instance', async () => {
      const [, second] = study.series[0].instances;
      // Another series of the same study is a move too: the file's path changes.
      const response = await upload([await moved(second.file, study.studyInstanceUid, otherSeries)]);
      const problem = (await expectProblem(response, 409)) as unknown as UploadAnswer;
      expect(problem.stored).toEqual([]);
      expect(problem.failed).toEqual([
        {
          part: 1,
          sopInstanceUid: second.sopInstanceUid,
          transferId,
          reason: expect.stringContaining(`series ${otherSeries}`) as unknown,
        },
      ]);
      expect(problem.failed[0].reason).toContain(transferId);
      expect(await instanceCount(study.studyInstanceUid)).toBe(2);
    });

    it('still replaces an instance in place (same study and series): the transfer reads it at dispatch', async () => {
      const [first] = study.series[0].instances;
      const response = await upload([await readFile(first.file)]);
      expect(response.status).toBe(200);
    });
  });

  describe('a retry after the instance moved while no transfer held it', () => {
    it('sends the file the study store holds when the batch is dispatched, not the one of when the transfer was made', async () => {
      // A configuration of its own: the transfer above keeps the other one's only association.
      const config = await service.createPacsConfig({
        type: 'dimse',
        aeTitle: peers.orthanc.aet,
        name: 'a PACS that does not answer yet',
        host: '127.0.0.1',
        port: pacs.port,
        cStore: true,
        maxAssociations: 1,
        timeoutMs: 120_000,
      });
      const study = await generateStudy(join(workDir, 'c'), { series: 1, instancesPerSeries: 2 });
      expect((await upload(await Promise.all(study.files.map((file) => readFile(file))))).status).toBe(200);
      const id = await exportTo(config, study.studyInstanceUid);
      await eventually('the transfer running', async () =>
        (await transfer(id)).status === 'running' ? true : undefined,
      );
      expect((await service.call('POST', `/transfers/${id}/cancel`)).status).toBe(200);

      // Not held any more: the instance may move to another series of its study (a new path; the
      // file the transfer listed is removed).
      const [first] = study.series[0].instances;
      const newSeries = newUid();
      const moveResponse = await upload([await moved(first.file, study.studyInstanceUid, newSeries)]);
      expect(moveResponse.status).toBe(200);

      // The PACS answers now: the same configuration, pointed at Orthanc.
      await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
      const patch = await service.call('PATCH', `/pacs-configs/${config}`, {
        host: peers.orthanc.host,
        port: peers.orthanc.port,
      });
      expect(patch.status).toBe(200);
      expect((await service.call('POST', `/transfers/${id}/retry`)).status).toBe(202);

      const end = await eventually('the retried transfer to end', async () => {
        const body = await transfer(id);
        return ['completed', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
      });
      expect(end).toMatchObject({ status: 'completed' });
      const found = (await orthancRest(peers.orthanc, 'POST', '/tools/find', {
        Level: 'Instance',
        Query: { SOPInstanceUID: first.sopInstanceUid },
        Expand: true,
      })) as { ParentSeries: string }[];
      expect(found).toHaveLength(1);
      const series = (await orthancRest(peers.orthanc, 'GET', `/series/${found[0].ParentSeries}`)) as {
        MainDicomTags: { SeriesInstanceUID: string };
      };
      expect(series.MainDicomTags.SeriesInstanceUID).toBe(newSeries);
    });
  });
});
