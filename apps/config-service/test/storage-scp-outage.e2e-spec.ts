import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { TcpProxy, eventually, generateStudy, runDcmtk, freePort } from '@pacslink/testing';
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { startDimseWorker } from './workers.harness';

// Issue 11: a study pushed to the Storage SCP while config-service's database is down is indexed
// and announced once it is back. The database sits behind a TCP proxy of the test's own.
jest.setTimeout(180_000);

const SCP_AE_TITLE = 'PACSLINK_SCP';
const PUSHING_PACS = 'MODALITY2';

describe('Storage SCP while the database is down', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let service: RunningConfigService;
  let worker: INestApplication;
  let database: TcpProxy;
  let workDir: string;
  let scpPort: number;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-storage-scp-outage-'));
    scpPort = await freePort();
    const storeDir = join(workDir, 'store');
    service = await startConfigService({
      env: { SECRETS_KEY: secretsKey, STORE_DIR: storeDir },
      beforeBoot: async ({ database: db }) => {
        const url = new URL(db.url);
        database = await new TcpProxy(url.hostname, Number(url.port || 5432)).start();
        url.host = `127.0.0.1:${database.port}`;
        return { DATABASE_URL: url.toString() };
      },
    });
    await service.createPacsConfig({
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
  });

  afterAll(async () => {
    await worker?.close();
    await database?.restore();
    await service?.stop();
    await database?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('indexes and announces the study once the database is back (the report waits, not dead-lettered)', async () => {
    const study = await generateStudy(join(workDir, 'study'), { series: 1, instancesPerSeries: 3 });
    const events: string[] = [];
    await service.subscribe('study.received', (body) => events.push(body));
    const scp = ['-aet', PUSHING_PACS, '-aec', SCP_AE_TITLE, '127.0.0.1', String(scpPort)];
    // The worker learns its callers while the database is up (kept 10 s).
    await runDcmtk('echoscu', scp);
    await database.cut();
    await runDcmtk('storescu', ['+sd', '+r', ...scp, study.directory]);
    // Longer than a report's deliveries would last if each were rejected back to its queue.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expect(events).toEqual([]);
    await database.restore();
    await eventually('study.received', () =>
      events.some((body) => body.includes(study.studyInstanceUid)) ? true : undefined,
    );
    const answer = await service.call('GET', `/studies/${study.studyInstanceUid}`);
    expect(answer.status).toBe(200);
  });
});
