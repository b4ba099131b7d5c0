import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { connect } from 'amqplib';
import { StorageScpReports } from '@pacslink/contracts';
import { createEnvelope } from '@pacslink/messaging';
import { eventually, generateStudy, runDcmtk, type GeneratedStudy, freePort } from '@pacslink/testing';
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { startDimseWorker } from './workers.harness';

// Issue 11: dimse-worker's Storage SCP on SCP_AE_TITLE/SCP_PORT, with DCMTK's storescu and echoscu
// as the peers (an independent DICOM stack), config-service telling the worker who may call.
jest.setTimeout(180_000);

const SCP_AE_TITLE = 'PACSLINK_SCP';
const PUSHING_PACS = 'MODALITY1';
const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/** A Part 10 file's data set: what follows its meta header ((0002,0000) gives the group's length). */
function dataSetOf(file: Buffer): Buffer {
  return file.subarray(144 + file.readUInt32LE(140));
}

/** The meta header and SOP Class of a stored file, as DCMTK reads it (an independent parser). */
async function dumped(path: string): Promise<string> {
  const { stdout } = await runDcmtk('dcmdump', [
    '-M',
    '+L',
    '--search',
    '0002,0010',
    '--search',
    '0008,0016',
    '--search',
    '0002,0016',
    '--search',
    '0008,0018',
    path,
  ]);
  return stdout;
}

describe('Storage SCP (dimse-worker) with DCMTK peers', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let service: RunningConfigService;
  let worker: INestApplication;
  let workDir: string;
  let storeDir: string;
  let scpPort: number;
  let explicitStudy: GeneratedStudy;
  let implicitStudy: GeneratedStudy;
  let abortedStudy: GeneratedStudy;
  let largeStudy: GeneratedStudy;
  let pacsConfigId: string;
  const received: { type: string; data: Record<string, unknown> }[] = [];

  /** The study.received events published for `studyInstanceUid`, once `count` of them are in. */
  async function receivedEvents(studyInstanceUid: string, count = 1) {
    return eventually(`${count} study.received for ${studyInstanceUid}`, () => {
      const events = received.filter((event) => event.data.studyInstanceUid === studyInstanceUid);
      return events.length >= count ? events : undefined;
    });
  }

  interface StudySummary {
    studyInstanceUid: string;
    seriesCount: number;
    instanceCount: number;
    modalities: string[];
  }

  async function listedStudy(studyInstanceUid: string): Promise<StudySummary | undefined> {
    const answer = await service.call('GET', '/studies?limit=100');
    expect(answer.status).toBe(200);
    const page = (await answer.json()) as { items: StudySummary[] };
    return page.items.find((study) => study.studyInstanceUid === studyInstanceUid);
  }

  function scpArgs(callingAeTitle: string, calledAeTitle = SCP_AE_TITLE): string[] {
    return ['-aet', callingAeTitle, '-aec', calledAeTitle, '127.0.0.1', String(scpPort)];
  }

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-storage-scp-'));
    storeDir = join(workDir, 'store');
    scpPort = await freePort();
    service = await startConfigService({ env: { SECRETS_KEY: secretsKey, STORE_DIR: storeDir } });
    await service.subscribe('study.received', (body) => {
      received.push(JSON.parse(body) as { type: string; data: Record<string, unknown> });
    });
    pacsConfigId = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: PUSHING_PACS,
      name: 'a modality that pushes studies',
      host: '127.0.0.1',
      port: 104,
      cStore: true,
    });
    worker = await startDimseWorker(service.vhost.url, secretsKey, {
      STORE_DIR: storeDir,
      SCP_AE_TITLE,
      SCP_PORT: String(scpPort),
    });
    // Two series of CT; the second series' instances become MR Image Storage: two SOP classes.
    explicitStudy = await generateStudy(join(workDir, 'explicit'), {
      series: 2,
      instancesPerSeries: 50,
      instanceBytes: 9_400,
    });
    for (const instance of explicitStudy.series[1].instances) {
      await runDcmtk('dcmodify', ['-nb', '-m', `(0008,0016)=${MR_IMAGE_STORAGE}`, instance.file]);
    }
    implicitStudy = await generateStudy(join(workDir, 'implicit'), { series: 1, instancesPerSeries: 4 });
    abortedStudy = await generateStudy(join(workDir, 'aborted'), { series: 1, instancesPerSeries: 3 });
    largeStudy = await generateStudy(join(workDir, 'large'), {
      series: 1,
      instancesPerSeries: 1,
      instanceBytes: 24_000_000,
    });
  });

  afterAll(async () => {
    await worker?.close();
    await service?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('answers C-ECHO from a configured DIMSE PACS', async () => {
    const { stdout, stderr } = await runDcmtk('echoscu', ['-v', ...scpArgs(PUSHING_PACS)]);
    expect(`${stdout}${stderr}`).toMatch(/Received Echo Response \(Success\)/);
  });

  it('stores what storescu sends in Explicit VR, several SOP classes, many small files, one association', async () => {
    await runDcmtk('storescu', ['-xe', '+sd', '+r', ...scpArgs(PUSHING_PACS), explicitStudy.directory]);
    const studyDir = join(storeDir, 'studies', explicitStudy.studyInstanceUid);
    const expected = explicitStudy.series
      .flatMap((series) =>
        series.instances.map((instance) => join(series.seriesInstanceUid, `${instance.sopInstanceUid}.dcm`)),
      )
      .sort();
    expect(await filesUnder(studyDir)).toEqual(expected);
    const mr = explicitStudy.series[1].instances[0];
    const dump = await dumped(
      join(studyDir, explicitStudy.series[1].seriesInstanceUid, `${mr.sopInstanceUid}.dcm`),
    );
    expect(dump).toContain(`(0002,0010) UI =LittleEndianExplicit`);
    expect(dump).toContain(`(0008,0016) UI =MRImageStorage`);
    expect(dump).toContain(`(0002,0016) AE [${PUSHING_PACS}]`);
    expect(dump).toContain(`[${mr.sopInstanceUid}]`);
    // Nothing half-written left behind.
    expect(await filesUnder(join(storeDir, 'tmp'))).toEqual([]);
    // Indexed by config-service, and announced once the association ended: one event, no patient data.
    const [event, ...more] = await receivedEvents(explicitStudy.studyInstanceUid);
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      type: 'study.received',
      data: {
        studyInstanceUid: explicitStudy.studyInstanceUid,
        pacsConfigId,
        pacsAeTitle: PUSHING_PACS,
        instances: 100,
        series: 2,
      },
    });
    expect(JSON.stringify(event)).not.toContain(explicitStudy.patient.id);
    expect(await listedStudy(explicitStudy.studyInstanceUid)).toMatchObject({
      seriesCount: 2,
      instanceCount: 100,
    });
  });

  it('announces an association once: its report delivered again indexes again and announces nothing', async () => {
    const [event] = await receivedEvents(explicitStudy.studyInstanceUid);
    const series = explicitStudy.series[0];
    const report = {
      associationId: event.data.associationId as string,
      pacsConfigId,
      pacsAeTitle: PUSHING_PACS,
      callingAeTitle: PUSHING_PACS,
      paths: series.instances.map(
        (instance) =>
          `studies/${explicitStudy.studyInstanceUid}/${series.seriesInstanceUid}/${instance.sopInstanceUid}.dcm`,
      ),
    };
    const connection = await connect(service.vhost.url);
    try {
      const channel = await connection.createConfirmChannel();
      const envelope = createEnvelope(StorageScpReports.Received, report);
      channel.publish(
        StorageScpReports.Received.exchange,
        StorageScpReports.Received.type,
        Buffer.from(JSON.stringify(envelope)),
        { messageId: envelope.eventId, type: envelope.type, headers: { 'x-contract-version': 1 } },
      );
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    // Handled: the study is still indexed whole; no second event comes.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(
      received.filter((event) => event.data.studyInstanceUid === explicitStudy.studyInstanceUid),
    ).toHaveLength(1);
    expect(await listedStudy(explicitStudy.studyInstanceUid)).toMatchObject({ instanceCount: 100 });
  });

  it('stores what storescu sends in Implicit VR Little Endian (converted by storescu), as Implicit VR', async () => {
    await runDcmtk('storescu', ['-xi', '+sd', '+r', ...scpArgs(PUSHING_PACS), implicitStudy.directory]);
    const series = implicitStudy.series[0];
    const stored = join(storeDir, 'studies', implicitStudy.studyInstanceUid, series.seriesInstanceUid);
    expect(await filesUnder(stored)).toHaveLength(series.instances.length);
    const dump = await dumped(join(stored, `${series.instances[0].sopInstanceUid}.dcm`));
    expect(dump).toContain(`(0002,0010) UI =LittleEndianImplicit`);
    await receivedEvents(implicitStudy.studyInstanceUid);
    expect(await listedStudy(implicitStudy.studyInstanceUid)).toMatchObject({
      seriesCount: 1,
      instanceCount: 4,
    });
  });

  it('stores a 24 MB instance, its data set in many P-DATA-TF PDUs, byte for byte', async () => {
    await runDcmtk('storescu', ['+sd', '+r', ...scpArgs(PUSHING_PACS), largeStudy.directory]);
    const [series] = largeStudy.series;
    const [instance] = series.instances;
    const stored = await readFile(
      join(
        storeDir,
        'studies',
        largeStudy.studyInstanceUid,
        series.seriesInstanceUid,
        `${instance.sopInstanceUid}.dcm`,
      ),
    );
    expect(dataSetOf(stored).equals(dataSetOf(await readFile(instance.file)))).toBe(true);
    await receivedEvents(largeStudy.studyInstanceUid);
  });

  it('answers an instance larger than SCP_MAX_INSTANCE_BYTES with 0xA700 and keeps nothing of it, storing the rest of the association', async () => {
    const limitedPort = await freePort();
    const limitedDir = join(workDir, 'limited-store');
    const limited = await startDimseWorker(service.vhost.url, secretsKey, {
      STORE_DIR: limitedDir,
      SCP_AE_TITLE,
      SCP_PORT: String(limitedPort),
      SCP_MAX_INSTANCE_BYTES: String(1_000_000),
    });
    try {
      const small = await generateStudy(join(workDir, 'beside-large'), { series: 1, instancesPerSeries: 2 });
      const args = ['-aet', PUSHING_PACS, '-aec', SCP_AE_TITLE, '127.0.0.1', String(limitedPort)];
      // --no-halt: storescu goes on after a refused instance (and then exits non-zero).
      const output = await runDcmtk('storescu', [
        '-d',
        '--no-halt',
        ...args,
        largeStudy.files[0],
        ...small.files,
      ]).then(
        ({ stdout, stderr }) => `${stdout}${stderr}`,
        (error: Error) => error.message,
      );
      expect(output).toContain('0xa700: Refused: Out of resources');
      expect(output).toMatch(/\(0000,0902\).*larger than SCP_MAX_INSTANCE_BYTES \(1000000\)/);
      const files = await filesUnder(join(limitedDir, 'studies'));
      const expected = small.series.flatMap((series) =>
        series.instances.map(
          (instance) =>
            `${small.studyInstanceUid}/${series.seriesInstanceUid}/${instance.sopInstanceUid}.dcm`,
        ),
      );
      expect(files).toEqual(expected.sort());
      expect(await filesUnder(join(limitedDir, 'tmp'))).toEqual([]);
    } finally {
      await limited.close();
    }
  });

  it('indexes and announces what an association stored before the peer aborted it (storescu --abort)', async () => {
    await runDcmtk('storescu', ['--abort', '+sd', '+r', ...scpArgs(PUSHING_PACS), abortedStudy.directory]);
    const [event] = await receivedEvents(abortedStudy.studyInstanceUid);
    expect(event.data).toMatchObject({ instances: 3, series: 1 });
    expect(await listedStudy(abortedStudy.studyInstanceUid)).toMatchObject({ instanceCount: 3 });
  });

  it('rejects a calling AE title that is not a configured DIMSE PACS: A-ASSOCIATE-RJ, calling AE not recognized, audited once a minute', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const refused = runDcmtk('echoscu', ['-v', ...scpArgs('STRANGER')]);
      await expect(refused).rejects.toThrow(/Calling AE Title Not Recognized/i);
    }
    const entry = await eventually('the refusal in the audit', async () =>
      (await service.auditEntries()).find(
        (candidate) =>
          candidate.action === 'storage-scp.association-refused' &&
          candidate.change.callingAeTitle === 'STRANGER',
      ),
    );
    expect(entry).toMatchObject({
      actor: 'system',
      change: {
        calledAeTitle: SCP_AE_TITLE,
        remoteAddress: expect.stringContaining('127.0.0.1') as unknown,
        reason: 'calling AE title is not the AE title of a configured DIMSE PACS',
        count: 1,
      },
    });
    // The two repeats wait for the end of their minute, folded into one entry.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const entries = (await service.auditEntries()).filter(
      (candidate) =>
        candidate.action === 'storage-scp.association-refused' &&
        candidate.change.callingAeTitle === 'STRANGER',
    );
    expect(entries).toHaveLength(1);
  });

  it('rejects a called AE title that is not SCP_AE_TITLE: A-ASSOCIATE-RJ, called AE not recognized', async () => {
    const refused = runDcmtk('echoscu', ['-v', ...scpArgs(PUSHING_PACS, 'SOMEONE_ELSE')]);
    await expect(refused).rejects.toThrow(/Called AE Title Not Recognized/i);
  });
});
