import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import {
  captureLogs,
  eventually,
  generateStudy,
  uploadToStudyStore,
  type CapturedLogs,
  type GeneratedStudy,
} from '@pacslink/testing';
/* eslint-disable @nx/enforce-module-boundaries --
 * The PS3.8 peer scripted by libs/dimse's tests: the one SCP that answers a C-STORE with whatever
 * ErrorComment a test asks for. Test code only. */
import { startScriptedScp, type ScriptedScp } from '../../../libs/dimse/test/support/scripted-scp';
/* eslint-enable @nx/enforce-module-boundaries */
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { startWorkers } from './workers.harness';

// Issue 9, "Bodies and inputs": what a PACS writes back (a DIMSE ErrorComment, an HTTP error body)
// may name the patient and be of any length. It reaches the API, the events, the audit and the
// logs bounded, and with the study's patient name and ID masked — through the running services,
// against peers that answer with the patient's name in their own words.
jest.setTimeout(120_000);

const FAMILY = 'Sentinelle';
const GIVEN = 'Zebulon';
const PATIENT_ID = 'ZEB-4711';
/** Every spelling of the patient a leak would show. */
const LEAKS = [FAMILY, GIVEN, PATIENT_ID].map((word) => word.toLowerCase());

function leaksIn(text: string): string[] {
  const lower = text.toLowerCase();
  return LEAKS.filter((word) => lower.includes(word));
}

interface TransferBody {
  id: string;
  status: string;
  error?: string;
}

interface TransferEvent {
  type: string;
  data: { transferId: string; error?: string };
}

describe('transfer errors quoting a PACS: bounded, the patient masked, in the API, events and logs', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let logs: CapturedLogs;
  let service: RunningConfigService;
  const workers: INestApplication[] = [];
  let workDir: string;
  let study: GeneratedStudy;
  let stowServer: Server;
  let scp: ScriptedScp;
  const events: TransferEvent[] = [];

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-transfer-errors-'));
    const storeDir = join(workDir, 'store');
    // The most talkative level: nothing any service logs may name the patient.
    const LOG_LEVEL = 'trace';
    service = await startConfigService({
      env: { SECRETS_KEY: secretsKey, STORE_DIR: storeDir, LOG_LEVEL },
      // Before boot: pino chooses where it writes when a service starts.
      beforeBoot: () => {
        logs = captureLogs();
      },
    });
    workers.push(...(await startWorkers(service.vhost.url, secretsKey, { STORE_DIR: storeDir, LOG_LEVEL })));
    await service.subscribe('transfer.#', (body) => events.push(JSON.parse(body) as TransferEvent));
    const settings = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(settings.status).toBe(200);

    study = await generateStudy(workDir, {
      series: 1,
      instancesPerSeries: 2,
      patient: { name: `${FAMILY}^${GIVEN}`, id: PATIENT_ID },
    });
    expect((await uploadToStudyStore(service.baseUrl, service.apiKey, study.files)).status).toBe(200);

    // A DICOMweb server that refuses every STOW-RS request with a long text naming the patient.
    stowServer = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(400, { 'content-type': 'text/plain' });
        response.end(
          `Study rejected: patient ${FAMILY.toUpperCase()}^${GIVEN.toUpperCase()} (ID ${PATIENT_ID})\n` +
            `is locked by ${GIVEN} ${FAMILY}'s open report. ${'Details follow. '.repeat(300)}`,
        );
      });
    });
    await new Promise<void>((resolve) => stowServer.listen(0, '127.0.0.1', resolve));

    // A C-STORE SCP that refuses every instance, its ErrorComment a whole log line naming the patient.
    scp = await startScriptedScp({
      onCommand: (command, conversation) =>
        conversation.respond(
          command,
          0xa700,
          undefined,
          `no space left storing ${FAMILY}, ${GIVEN} [${PATIENT_ID.toLowerCase()}] ${'x'.repeat(2_000)}`,
        ),
    });
  });

  afterAll(async () => {
    for (const worker of workers) await worker.close();
    await service?.stop();
    logs?.restore();
    await new Promise((resolve) => stowServer?.close(resolve));
    await scp?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  async function failedExport(pacsConfig: Record<string, unknown>): Promise<TransferBody> {
    const pacsConfigId = await service.createPacsConfig(pacsConfig);
    const created = await service.call('POST', '/transfers', {
      direction: 'export',
      pacsConfigId,
      studyInstanceUid: study.studyInstanceUid,
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as TransferBody;
    await eventually(`transfer.failed of ${id}`, () =>
      events.find((event) => event.type === 'transfer.failed' && event.data.transferId === id),
    );
    const answer = await service.call('GET', `/transfers/${id}`);
    expect(answer.status).toBe(200);
    return (await answer.json()) as TransferBody;
  }

  function failedEvent(id: string): TransferEvent | undefined {
    return events.find((event) => event.type === 'transfer.failed' && event.data.transferId === id);
  }

  /** The service's and workers' log lines about this transfer, and no line anywhere naming the patient. */
  function expectLogsClean(transferId: string): Record<string, unknown>[] {
    expect(leaksIn(logs.chunks.join(''))).toEqual([]);
    return logs.entries().filter((entry) => entry.transferId === transferId);
  }

  it("a STOW-RS server's error body: bounded, the patient masked (GET /transfers/{id}, transfer.failed, audit, logs)", async () => {
    const transfer = await failedExport({
      type: 'dicomweb',
      aeTitle: 'NAMING_STOW',
      name: 'a STOW-RS server that names the patient',
      url: `http://127.0.0.1:${(stowServer.address() as AddressInfo).port}/dicom-web`,
      stowRs: true,
      auth: { method: 'none' },
      timeoutMs: 10_000,
    });
    expect(transfer.status).toBe('failed');
    expect(transfer.error).toMatch(
      /^the server refused the STOW-RS request as malformed \(HTTP 400 Bad Request\): “Study rejected: patient \*\*\*\^\*\*\* \(ID \*\*\*\) is locked by \*\*\* \*\*\*'s open report\. Details follow\. .*…”$/,
    );
    // The server sent 5 KB; the error quotes at most 160 characters of it.
    expect(transfer.error?.length).toBeLessThan(300);
    expect(failedEvent(transfer.id)?.data.error).toBe(transfer.error);

    const audit = await service.auditEntries();
    expect(
      audit.find((entry) => entry.entityId === transfer.id && entry.action === 'transfer.failed'),
    ).toMatchObject({ change: { error: transfer.error } });

    const lines = expectLogsClean(transfer.id);
    // The worker leaves the server's words out; config-service logs them masked. (In one process
    // the services share pino's root logger, so the worker's line is told by its context.)
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'export batch stopped',
        context: 'ExportBatchRunner',
        reason: expect.stringContaining("“[the PACS's words, not logged here]”") as unknown,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'transfer failed', context: 'TransferLedger', error: transfer.error }),
    );
  });

  it('a C-STORE ErrorComment: bounded, the patient masked (GET /transfers/{id}/instances, transfer.failed, logs)', async () => {
    const transfer = await failedExport({
      type: 'dimse',
      aeTitle: scp.aeTitle,
      name: 'a C-STORE SCP that names the patient',
      host: '127.0.0.1',
      port: scp.port,
      cStore: true,
      timeoutMs: 10_000,
    });
    expect(transfer.status).toBe('failed');

    const answer = await service.call('GET', `/transfers/${transfer.id}/instances?status=failure`);
    expect(answer.status).toBe(200);
    const { items } = (await answer.json()) as { items: { sopInstanceUid: string; reason: string }[] };
    expect(items).toHaveLength(2);
    for (const { reason } of items) {
      // 256 characters of the comment, the ID masked although the PACS wrote it in lower case.
      expect(reason).toBe(
        `0xA700 (refused: out of resources): “no space left storing ***, *** [***] ${'x'.repeat(256 - 53)}…”`,
      );
    }
    expect(transfer.error).toContain('the PACS refused 2 of 2 instances');
    expect(transfer.error).toContain('“no space left storing ***, *** [***]');
    expect(failedEvent(transfer.id)?.data.error).toBe(transfer.error);

    const lines = expectLogsClean(transfer.id);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'transfer failed', context: 'TransferLedger', error: transfer.error }),
    );
  });
});
