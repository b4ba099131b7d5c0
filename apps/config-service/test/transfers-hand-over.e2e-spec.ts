import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { connect, type ChannelModel } from 'amqplib';
import { Exchanges, ExportBatchCommands, ExportBatchReports } from '@pacslink/contracts';
/* eslint-disable @nx/enforce-module-boundaries --
 * The PS3.8 peer scripted by libs/dimse's tests: it answers every C-STORE at once and counts the
 * associations. Test code only. */
import { startScriptedScp, type ScriptedScp } from '../../../libs/dimse/test/support/scripted-scp';
/* eslint-enable @nx/enforce-module-boundaries */
import { startConfigService, type RunningConfigService } from './config-service.harness';
import { ExportCalls } from './export-calls';
import { startWorkers } from './workers.harness';

// Issue 12: no round trip between consecutive batches of one association slot (ADR 0006, "The
// engine's own cost"). The slot's next batch is dispatched ahead and its worker's claim waits,
// held, in config-service: the finished report of the batch before it grants it. Before that the
// next command was only dispatched by the finished report, and claimed after it. Real config-service
// and dimse-worker over RabbitMQ and Postgres; a scripted Storage SCP answering each C-STORE after
// RESPONSE_DELAY_MS, as a PACS takes a while per instance: answered at once, a batch of 400 ran in
// less time than the outbox relay took under CI's load (seen once: the next command 277 ms after
// the batch ahead finished), which tells nothing about the hand-over.
jest.setTimeout(240_000);

const C_STORE = 0x0001;
const INSTANCES = 1_600; // four batches of 400 on the one slot (at most 500 each)
/** About a second per batch: a PACS's few milliseconds per instance. */
const RESPONSE_DELAY_MS = 2;

/** When each batch's command, claims and finished report reached the broker, by batch id. */
class Taps {
  readonly seen = new Map<string, { type: string; at: number }[]>();
  private connection?: ChannelModel;

  async subscribe(amqpUrl: string): Promise<void> {
    this.connection = await connect(amqpUrl);
    const channel = await this.connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    for (const contract of [
      ExportBatchCommands.Dimse,
      ExportBatchReports.Claim,
      ExportBatchReports.Finished,
    ]) {
      await channel.bindQueue(queue, Exchanges.Commands, contract.type);
    }
    await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        const { type, data } = JSON.parse(message.content.toString('utf8')) as {
          type: string;
          data: { batchId: string };
        };
        const list = this.seen.get(data.batchId) ?? [];
        list.push({ type, at: Date.now() });
        this.seen.set(data.batchId, list);
      },
      { noAck: true },
    );
  }

  first(batchId: string, type: string): number {
    const found = this.seen.get(batchId)?.find((seen) => seen.type === type);
    if (!found) throw new Error(`no ${type} of batch ${batchId}`);
    return found.at;
  }

  async close(): Promise<void> {
    await this.connection?.close();
  }
}

describe('the hand-over between batches of one association slot', () => {
  const secretsKey = randomBytes(32).toString('base64');
  let service: RunningConfigService;
  let calls: ExportCalls;
  let workDir: string;
  let scp: ScriptedScp;
  const taps = new Taps();
  const workers: INestApplication[] = [];

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-hand-over-e2e-'));
    const storeDir = join(workDir, 'store');
    service = await startConfigService({ env: { SECRETS_KEY: secretsKey, STORE_DIR: storeDir } });
    workers.push(...(await startWorkers(service.vhost.url, secretsKey, { STORE_DIR: storeDir })));
    calls = new ExportCalls(service, workDir);
    const settings = await service.call('PUT', '/settings', {
      allowTransfer: true,
      defaultCallingAeTitle: 'PACSLINK',
    });
    expect(settings.status).toBe(200);
    scp = await startScriptedScp(
      {
        onCommand: (command, conversation) => {
          if (command.commandField !== C_STORE) return;
          setTimeout(() => conversation.respond(command, 0x0000), RESPONSE_DELAY_MS);
        },
      },
      'HANDOVER',
    );
    await taps.subscribe(service.vhost.url);
  });

  afterAll(async () => {
    await taps.close();
    for (const worker of workers) await worker.close();
    await service?.stop();
    await scp?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('claims the next batch before the one ahead of it finished, one association at a time', async () => {
    const pacsConfigId = await service.createPacsConfig({
      type: 'dimse',
      aeTitle: 'HANDOVER',
      name: 'scripted HANDOVER',
      host: '127.0.0.1',
      port: scp.port,
      cStore: true,
      maxAssociations: 1,
    });
    const study = await calls.storedStudy(INSTANCES, 2_048);
    const ended = await calls.ended(await calls.export(pacsConfigId, study), 180_000);
    expect(ended).toMatchObject({ status: 'completed', progress: { completed: INSTANCES, failed: 0 } });
    expect(scp.log.connections).toBe(4);

    // Batches in the order they were sent (their first claim).
    const batches = [...taps.seen.keys()].sort(
      (a, b) => taps.first(a, ExportBatchReports.Claim.type) - taps.first(b, ExportBatchReports.Claim.type),
    );
    expect(batches).toHaveLength(4);
    for (let n = 1; n < batches.length; n++) {
      const aheadFinished = taps.first(batches[n - 1], ExportBatchReports.Finished.type);
      // Dispatched and claimed while the batch ahead still ran: nothing of that is left in the gap.
      expect(taps.first(batches[n], ExportBatchCommands.Dimse.type)).toBeLessThan(aheadFinished);
      expect(taps.first(batches[n], ExportBatchReports.Claim.type)).toBeLessThan(aheadFinished);
    }
  });
});
