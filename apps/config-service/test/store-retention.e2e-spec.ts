import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import { generateStudy, multipartRelated, type GeneratedStudy } from '@pacslink/testing';
import { StoreRetention } from '../src/studies/store-retention';
import { StudiesRepository } from '../src/studies/studies.repository';
import { StudiesService } from '../src/studies/studies.service';
import { startConfigService, type RunningConfigService } from './config-service.harness';

// The store's retention rule (STORE_RETENTION_DAYS): a study whose last instance arrived longer
// ago than the rule keeps it is deleted, rows, files and an audit entry; a study a transfer is
// using is kept; a recent one is kept. Real Postgres, real files, the service in-process.
jest.setTimeout(120_000);

describe('store retention', () => {
  let service: RunningConfigService;
  let sql: Client;
  let workDir: string;
  let storeDir: string;
  const studies: Record<'old' | 'inTransfer' | 'recent', GeneratedStudy> = {} as never;

  async function upload(study: GeneratedStudy): Promise<void> {
    const boundary = `pacslink-${randomBytes(8).toString('hex')}`;
    const files = await Promise.all(study.files.map((file) => readFile(file)));
    const response = await fetch(`${service.baseUrl}/api/v1/studies`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${service.apiKey}`,
        'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      },
      body: multipartRelated(files, boundary),
    });
    expect(response.status).toBe(200);
  }

  async function backdate(study: GeneratedStudy, days: number): Promise<void> {
    await sql.query(
      `UPDATE stored_study SET updated_at = now() - make_interval(days => $2) WHERE study_instance_uid = $1`,
      [study.studyInstanceUid, days],
    );
  }

  const filesOf = (study: GeneratedStudy) =>
    readdir(join(storeDir, 'studies', study.studyInstanceUid), { recursive: true }).catch(() => []);

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-retention-e2e-'));
    storeDir = join(workDir, 'store');
    service = await startConfigService({ env: { STORE_DIR: storeDir, STORE_RETENTION_DAYS: '7' } });
    sql = await service.connectSql();
    for (const name of ['old', 'inTransfer', 'recent'] as const) {
      studies[name] = await generateStudy(join(workDir, 'generated'), { series: 2, instancesPerSeries: 2 });
      await upload(studies[name]);
    }
    // A transfer that stays queued: no worker runs in this test.
    expect(
      (await service.call('PUT', '/settings', { allowTransfer: true, defaultCallingAeTitle: 'PACSLINK' }))
        .status,
    ).toBe(200);
    const pacsConfigId = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: 'NOWHERE',
      name: 'a PACS no worker reaches',
      host: '127.0.0.1',
      port: 104,
      cStore: true,
    });
    const transfer = await service.call('POST', '/transfers', {
      direction: 'export',
      pacsConfigId,
      studyInstanceUid: studies.inTransfer.studyInstanceUid,
    });
    expect(transfer.status).toBe(202);
    await backdate(studies.old, 8);
    await backdate(studies.inTransfer, 30);
    await backdate(studies.recent, 6);
  });

  afterAll(async () => {
    await sql?.end();
    await service?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  it('deletes what is past the rule, keeps what a transfer uses and what is recent', async () => {
    const sweep = await service.app.get(StoreRetention).runSweep();

    expect(sweep).toEqual({ deleted: 1, inUse: 1 });
    expect((await service.call('GET', `/studies/${studies.old.studyInstanceUid}`)).status).toBe(404);
    expect(await filesOf(studies.old)).toEqual([]);
    for (const kept of [studies.inTransfer, studies.recent]) {
      expect((await service.call('GET', `/studies/${kept.studyInstanceUid}`)).status).toBe(200);
      expect((await filesOf(kept)).filter((name) => String(name).endsWith('.dcm'))).toHaveLength(4);
    }
    const deletions = (await service.auditEntries()).filter((entry) => entry.action === 'study.deleted');
    expect(deletions).toEqual([
      expect.objectContaining({ actor: 'system:retention', entityId: studies.old.studyInstanceUid }),
    ]);
  });

  it('finds nothing more to do on the next sweep', async () => {
    expect(await service.app.get(StoreRetention).runSweep()).toEqual({ deleted: 0, inUse: 1 });
  });
  it('two replicas sweeping at once delete and audit a study once', async () => {
    const due = await generateStudy(join(workDir, 'generated'), { series: 1, instancesPerSeries: 2 });
    await upload(due);
    await backdate(due, 9);
    const policy = { keepDays: 7 };
    const replica = () =>
      new StoreRetention(policy, service.app.get(StudiesRepository), service.app.get(StudiesService));

    const sweeps = await Promise.all([replica().runSweep(), replica().runSweep()]);

    expect(sweeps.map((sweep) => sweep?.deleted).sort()).toEqual([0, 1]);
    expect(await filesOf(due)).toEqual([]);
    const deletions = (await service.auditEntries()).filter(
      (entry) => entry.action === 'study.deleted' && entry.entityId === due.studyInstanceUid,
    );
    expect(deletions).toHaveLength(1);
  });

  it('keeps a study an instance reached after it was found due', async () => {
    const touched = await generateStudy(join(workDir, 'generated'), { series: 1, instancesPerSeries: 1 });
    await upload(touched);
    const cutoff = new Date(Date.now() - 60_000); // it was found due against this
    const actor = { id: 'system:retention', roles: [] };

    // Its updated_at (now) is past the cutoff: an instance came in between.
    await expect(
      service.app.get(StudiesService).remove(touched.studyInstanceUid, actor, cutoff),
    ).rejects.toMatchObject({ code: 'not-found' });
    expect((await service.call('GET', `/studies/${touched.studyInstanceUid}`)).status).toBe(200);
  });
});
