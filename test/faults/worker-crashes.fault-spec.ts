import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumeMessage } from 'amqplib';
import { ConsumerQueues, ExportBatchCommands, UnroutableQueue, deadLetterQueueOf } from '@pacslink/contracts';
import { DEAD_LETTER_REASON_HEADER } from '@pacslink/messaging';
import { eventually } from '@pacslink/testing';
import { BrokerClient } from './support/broker-client';
import { settleCase } from './support/end-state';
import { faultSuite } from './support/fault-suite';

// Workers that die mid-batch, and commands that arrive twice, malformed, or for nobody
// (docs/testing/fault-suite.md). Each case ends with the end state of support/end-state.ts.
const suite = faultSuite({ suite: 'worker-crashes', configServiceEnv: { TRANSFER_RETRY_BASE_MS: '500' } });

/** A sent batch needs a few seconds (a response delay at the probe), so that a fault lands mid-batch. */
const RESPONSE_DELAY_MS = 50;

it('SIGKILL a dimse-worker after 20 of 60 instances', async () => {
  const kit = suite.kit();
  try {
    const pacs = await kit.dimseOrthanc({ maxAssociations: 1, responseDelayMs: RESPONSE_DELAY_MS });
    const study = await kit.study({ series: 2, instancesPerSeries: 30, instanceBytes: 20_000 });
    const transfer = await kit.export(pacs, study);
    await pacs.probe?.sent(20);
    const sender = await kit.sendingReplica(pacs.probe!, 'dimse-worker');
    await sender.kill();
    const killedAt = Date.now();
    await suite.stack.startReplica('dimse-worker');
    await settleCase(suite.stack, {
      name: 'SIGKILL a dimse-worker after 20 of 60 instances',
      transfers: [transfer],
      faultEndedAt: killedAt,
      waitMs: 180_000,
    });
  } finally {
    await kit.close();
  }
});

it('SIGKILL the dimse-worker that runs a batch and holds the claim of the next one (one slot)', async () => {
  const kit = suite.kit();
  try {
    // One dimse-worker while the transfer starts: it runs the first batch and, the second being
    // dispatched ahead for the PACS's one slot (ADR 0006, "The engine's own cost"), asks that
    // batch's claim too, which config-service holds unanswered until the slot frees.
    const [holder, ...others] = suite.stack.live('dimse-worker');
    for (const other of others) await suite.stack.terminate(other);
    const pacs = await kit.dimseOrthanc({ maxAssociations: 1, responseDelayMs: 20 });
    // 520 instances: a batch of 500 and one of 20.
    const study = await kit.study({ series: 2, instancesPerSeries: 260, instanceBytes: 2_000 });
    const transfer = await kit.export(pacs, study);
    await pacs.probe?.sent(20);
    const held = await eventually('the second batch claim held', async () => {
      const [row] = await suite.stack.query<{ held: number }>(
        'SELECT count(*)::int AS held FROM transfer_batch WHERE transfer_id = $1 AND held_by IS NOT NULL',
        [transfer.id],
      );
      return row.held > 0 ? row.held : undefined;
    });
    expect(held).toBe(1);
    await suite.stack.startReplica('dimse-worker');
    // Its running batch and its held claim die with it: the first goes again when its lease
    // runs out, the second is granted to nobody alive and goes again the same way.
    await holder.kill();
    const killedAt = Date.now();
    await suite.stack.startReplica('dimse-worker');
    await settleCase(suite.stack, {
      name: 'SIGKILL the dimse-worker that runs a batch and holds the claim of the next one',
      transfers: [transfer],
      faultEndedAt: killedAt,
      waitMs: 180_000,
    });
  } finally {
    await kit.close();
  }
});

it('SIGKILL a dicomweb-worker after 20 of 60 instances', async () => {
  const kit = suite.kit();
  try {
    // STOW-RS sends a batch's request at once: a slow answer keeps it open long enough to kill.
    const pacs = await kit.stowOrthanc({ responseDelayMs: 3_000 });
    const study = await kit.study({ series: 2, instancesPerSeries: 30, instanceBytes: 20_000 });
    const transfer = await kit.export(pacs, study);
    await pacs.probe?.sent(20);
    const sender = await kit.sendingReplica(pacs.probe!, 'dicomweb-worker');
    await sender.kill();
    const killedAt = Date.now();
    await suite.stack.startReplica('dicomweb-worker');
    await settleCase(suite.stack, {
      name: 'SIGKILL a dicomweb-worker after 20 of 60 instances',
      transfers: [transfer],
      faultEndedAt: killedAt,
      waitMs: 180_000,
    });
  } finally {
    await kit.close();
  }
});

/** Copies every dimse.export-batch command and publishes the first one again (same messageId). */
async function duplicateFirstDimseBatch(
  broker: BrokerClient,
): Promise<{ untap: () => Promise<void>; first: () => ConsumeMessage | undefined }> {
  let first: ConsumeMessage | undefined;
  const untap = await broker.tapCommands(ExportBatchCommands.Dimse.type, (message) => {
    if (first) return; // the tap sees its own duplicate too
    first = message;
    void broker.publishCommand(message.fields.routingKey, message.content, message.properties);
  });
  return { untap, first: () => first };
}

it('duplicate delivery: the same batch command published twice at once', async () => {
  const kit = suite.kit();
  const { broker } = suite.stack;
  const tap = await duplicateFirstDimseBatch(broker);
  try {
    const pacs = await kit.dimseOrthanc({ maxAssociations: 1, responseDelayMs: RESPONSE_DELAY_MS });
    const study = await kit.study({ series: 1, instancesPerSeries: 40, instanceBytes: 20_000 });
    const transfer = await kit.export(pacs, study);
    await settleCase(suite.stack, {
      name: 'duplicate delivery (a batch command twice at once)',
      transfers: [transfer],
      faultEndedAt: Date.now(),
      waitMs: 120_000,
    });
  } finally {
    await tap.untap();
    await kit.close();
  }
});

it('duplicate delivery: a batch command published again after its transfer completed', async () => {
  const kit = suite.kit();
  const { broker } = suite.stack;
  let first: ConsumeMessage | undefined;
  const untap = await broker.tapCommands(ExportBatchCommands.Dimse.type, (message) => (first ??= message));
  try {
    const pacs = await kit.dimseOrthanc({ maxAssociations: 1 });
    const study = await kit.study({ series: 1, instancesPerSeries: 10, instanceBytes: 20_000 });
    const transfer = await kit.export(pacs, study);
    await eventually('the transfer to complete', () =>
      suite.stack.events.terminal(transfer.id).length > 0 ? true : undefined,
    );
    const sent = () => [...(pacs.probe?.sends.values() ?? [])].reduce((sum, n) => sum + n, 0);
    const sentBefore = sent();
    const command = await eventually('the tapped command', () => first);
    await broker.publishCommand(command.fields.routingKey, command.content, command.properties);
    const republishedAt = Date.now();
    // Time for a worker to take it and claim it (and, wrongly, to send it).
    await sleep(5_000);
    await settleCase(suite.stack, {
      name: 'duplicate delivery (a batch command again after the end)',
      transfers: [transfer],
      faultEndedAt: republishedAt,
      waitMs: 30_000,
      problems:
        sent() === sentBefore ? [] : [`the late duplicate sent ${sent() - sentBefore} instances again`],
    });
  } finally {
    await untap();
    await kit.close();
  }
});

it('poison messages are dead-lettered with a reason, and nothing else is harmed', async () => {
  const kit = suite.kit();
  const { broker } = suite.stack;
  const dimseDeadLetters = deadLetterQueueOf(ConsumerQueues.DimseWorkerCommands.name);
  const dicomwebDeadLetters = deadLetterQueueOf(ConsumerQueues.DicomwebWorkerCommands.name);
  try {
    const dimse = await kit.dimseOrthanc({ maxAssociations: 1 });
    const stow = await kit.stowOrthanc();
    const studies = [
      await kit.study({ series: 1, instancesPerSeries: 10, instanceBytes: 20_000 }),
      await kit.study({ series: 1, instancesPerSeries: 10, instanceBytes: 20_000 }),
    ];
    const poisonedAt = Date.now();
    const invalid = (type: string) =>
      Buffer.from(
        JSON.stringify({
          eventId: randomUUID(),
          type,
          version: 1,
          occurredAt: new Date().toISOString(),
          // A batch of nothing, for a transfer that does not exist.
          data: { transferId: randomUUID(), batchId: randomUUID(), attempt: 1, instances: [] },
        }),
      );
    await broker.publishCommand(ExportBatchCommands.Dimse.type, Buffer.from('{"not": json'), {
      messageId: randomUUID(),
      contentType: 'application/json',
    });
    await broker.publishCommand(ExportBatchCommands.Dimse.type, invalid(ExportBatchCommands.Dimse.type), {
      messageId: randomUUID(),
      contentType: 'application/json',
      type: ExportBatchCommands.Dimse.type,
    });
    await broker.publishCommand(
      ExportBatchCommands.Dicomweb.type,
      invalid(ExportBatchCommands.Dicomweb.type),
      {
        messageId: randomUUID(),
        contentType: 'application/json',
        type: ExportBatchCommands.Dicomweb.type,
      },
    );
    const transfers = [await kit.export(dimse, studies[0]), await kit.export(stow, studies[1])];
    await settleCase(suite.stack, {
      name: 'poison messages (malformed and invalid batch commands)',
      transfers,
      faultEndedAt: poisonedAt,
      waitMs: 120_000,
      expectedInQueues: { [dimseDeadLetters]: 2, [dicomwebDeadLetters]: 1 },
    });
    const reasonsIn = async (queue: string) =>
      (await broker.drain(queue)).map((message) =>
        String((message.properties.headers ?? {})[DEAD_LETTER_REASON_HEADER]),
      );
    // Two dimse-worker replicas take the two poison commands in either order.
    const dimseReasons = await reasonsIn(dimseDeadLetters);
    expect(dimseReasons).toHaveLength(2);
    expect(dimseReasons).toEqual(
      expect.arrayContaining([expect.stringMatching(/not JSON/), expect.stringMatching(/instances/)]),
    );
    expect(await reasonsIn(dicomwebDeadLetters)).toEqual([expect.stringMatching(/instances/)]);
  } finally {
    // Whatever the case found, the next one starts with empty dead-letter queues.
    for (const queue of [
      dimseDeadLetters,
      dicomwebDeadLetters,
      deadLetterQueueOf(ConsumerQueues.ConfigServiceDeadLetters.name),
    ]) {
      await broker.drain(queue).catch(() => undefined);
    }
    await kit.close();
  }
});

it('an unroutable command is kept in pacslink.unroutable, and nothing else is harmed', async () => {
  const kit = suite.kit();
  const { broker } = suite.stack;
  try {
    const pacs = await kit.dimseOrthanc({ maxAssociations: 1 });
    const study = await kit.study({ series: 1, instancesPerSeries: 10, instanceBytes: 20_000 });
    const sentAt = Date.now();
    await broker.publishCommand('nobody.export-batch', Buffer.from('{}'), { messageId: randomUUID() });
    const transfer = await kit.export(pacs, study);
    await settleCase(suite.stack, {
      name: 'unroutable command',
      transfers: [transfer],
      faultEndedAt: sentAt,
      waitMs: 60_000,
      expectedInQueues: { [UnroutableQueue]: 1 },
    });
    const kept = await broker.drain(UnroutableQueue);
    expect(kept.map((message) => message.fields.routingKey)).toEqual(['nobody.export-batch']);
  } finally {
    await broker.drain(UnroutableQueue).catch(() => undefined);
    await kit.close();
  }
});
