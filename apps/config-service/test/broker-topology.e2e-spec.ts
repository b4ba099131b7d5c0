import { randomUUID } from 'node:crypto';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import {
  ConsumerQueues,
  Exchanges,
  UnroutableQueue,
  deadLetterQueueOf,
  type ConsumerQueue,
} from '@pacslink/contracts';
import { ParkingPolicy } from '@pacslink/messaging';
import { eventually, waitUntilReady } from '@pacslink/testing';
import { startConfigService, type RunningConfigService } from './config-service.harness';

// ADR 0002 "Topology": each service declares the queues it consumes and the command queues it
// sends into; no queue nobody reads. The dead-letter and unroutable queues are bounded by the
// broker policy ParkingPolicy, and config-service shows their depth at /metrics.
jest.setTimeout(60_000);

const REPORTS = ConsumerQueues.ConfigServiceReports.name;
const REPORTS_DEAD_LETTERS = deadLetterQueueOf(REPORTS);

interface QueueInfo {
  name: string;
  policy?: string;
}

function withDeadLetters(...queues: ConsumerQueue[]): string[] {
  return queues.flatMap(({ name }) => [name, deadLetterQueueOf(name)]);
}

/** The samples of pacslink_queue_messages, by queue. */
async function queueMessagesMetric(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const [, labels, value] of text.matchAll(/^pacslink_queue_messages\{([^}]*)\} (\S+)$/gm)) {
    const queue = /queue="([^"]+)"/.exec(labels)?.[1];
    if (queue) samples.set(queue, Number(value));
  }
  return samples;
}

describe('broker topology: who declares which queue, bounded parking queues, their depth', () => {
  let service: RunningConfigService;
  let broker: ChannelModel;
  let channel: ConfirmChannel;

  beforeAll(async () => {
    service = await startConfigService();
    // Ready: the topology is declared.
    expect((await waitUntilReady(service.baseUrl)).status).toBe(200);
    broker = await connect(service.vhost.url);
    channel = await broker.createConfirmChannel();
  });

  afterAll(async () => {
    await broker?.close().catch(() => undefined);
    await service?.stop();
  });

  const queues = () =>
    service.vhost.management.call<QueueInfo[]>('GET', `/queues/${encodeURIComponent(service.vhost.name)}`);

  /** Resolves true when the broker confirmed the publish, false when it refused it (nack). */
  function publish(exchange: string, routingKey: string, options: { mandatory?: boolean } = {}) {
    return new Promise<boolean>((resolve) =>
      channel.publish(
        exchange,
        routingKey,
        Buffer.from(JSON.stringify({ eventId: randomUUID() })),
        { persistent: true, ...options },
        (error: unknown) => resolve(!error),
      ),
    );
  }

  it('declares the queues config-service consumes and the worker queues it commands, nothing else', async () => {
    const names = (await queues()).map((queue) => queue.name).sort();
    expect(names).toEqual(
      [
        UnroutableQueue,
        ...withDeadLetters(
          ConsumerQueues.ConfigServiceReports,
          ConsumerQueues.ConfigServiceDeadLetters,
          ConsumerQueues.DimseWorkerCommands,
          ConsumerQueues.DicomwebWorkerCommands,
        ),
      ].sort(),
    );
  });

  it('keeps a command for a worker that never ran in its queue, not in pacslink.unroutable', async () => {
    const queue = ConsumerQueues.DimseWorkerCommands.name;
    expect(await publish(Exchanges.Commands, 'dimse.export-batch')).toBe(true);
    expect((await channel.checkQueue(queue)).messageCount).toBe(1);
    expect((await channel.checkQueue(UnroutableQueue)).messageCount).toBe(0);
    await channel.purgeQueue(queue);
  });

  it('lets a transfer.completed nobody subscribed to go: no queue keeps it', async () => {
    // mandatory: the broker hands back a message that reached no queue.
    const returned = new Promise<string>((resolve) => {
      channel.once('return', (message: { fields: { routingKey: string } }) =>
        resolve(message.fields.routingKey),
      );
      setTimeout(() => resolve('kept by a queue'), 5_000).unref();
    });
    expect(await publish(Exchanges.Events, 'transfer.completed', { mandatory: true })).toBe(true);
    expect(await returned).toBe('transfer.completed');
    for (const { name } of await queues()) {
      expect([name, (await channel.checkQueue(name)).messageCount]).toEqual([name, 0]);
    }
  });

  describe('with the parking policy applied (a bound of 2 messages, to reach it)', () => {
    const bound = 2;
    // A quorum queue refuses once it is over its bound: the publish that crosses it gets in.
    const held = bound + 1;

    beforeAll(async () => {
      const { name, pattern, applyTo, priority, definition } = ParkingPolicy;
      await service.vhost.management.call(
        'PUT',
        `/policies/${encodeURIComponent(service.vhost.name)}/${name}`,
        { pattern, 'apply-to': applyTo, priority, definition: { ...definition, 'max-length': bound } },
      );
      await eventually(
        'the policy applied to the parking queues',
        async () => {
          const byName = new Map((await queues()).map((queue) => [queue.name, queue.policy]));
          const applied = byName.get(REPORTS_DEAD_LETTERS) === name && byName.get(UnroutableQueue) === name;
          return applied || undefined;
        },
        30_000,
      );
    });

    it('bounds a dead-letter queue: past the bound a dead letter is refused (nack), none is dropped', async () => {
      const confirmed = [];
      for (let i = 0; i < held + 1; i++) confirmed.push(await publish(Exchanges.DeadLetter, REPORTS));
      expect(confirmed).toEqual([...Array<boolean>(held).fill(true), false]);
      expect((await channel.checkQueue(REPORTS_DEAD_LETTERS)).messageCount).toBe(held);
    });

    it('keeps a message it cannot dead-letter into the full queue in its own queue: nothing lost', async () => {
      // Malformed: config-service dead-letters it; the full queue refuses, the delivery goes back,
      // and past the delivery limit the broker holds it for dead-lettering (at-least-once).
      channel.publish(Exchanges.Commands, 'config-service.export-batch.progress', Buffer.from('not JSON'));
      await channel.waitForConfirms();
      await eventually(
        'the message held in its queue, waiting for room in the dead-letter queue',
        async () => {
          const queue = await service.vhost.management.call<{ messages_dlx?: number }>(
            'GET',
            `/queues/${encodeURIComponent(service.vhost.name)}/${REPORTS}`,
          );
          return queue.messages_dlx === 1 || undefined;
        },
        30_000,
      );
      expect((await channel.checkQueue(REPORTS)).messageCount).toBe(0);
      expect((await channel.checkQueue(REPORTS_DEAD_LETTERS)).messageCount).toBe(held);
    });

    it('bounds pacslink.unroutable the same way: an unroutable command past the bound is refused', async () => {
      const confirmed = [];
      for (let i = 0; i < held + 1; i++) confirmed.push(await publish(Exchanges.Commands, 'nobody.listens'));
      expect(confirmed).toEqual([...Array<boolean>(held).fill(true), false]);
      expect((await channel.checkQueue(UnroutableQueue)).messageCount).toBe(held);
    });

    it('never bounds a work queue', async () => {
      const byName = new Map((await queues()).map((queue) => [queue.name, queue.policy]));
      expect(byName.get(REPORTS)).toBeFalsy();
      expect(byName.get(ConsumerQueues.DimseWorkerCommands.name)).toBeFalsy();
    });

    it('shows the depth of every dead-letter and unroutable queue at /metrics', async () => {
      const samples = await queueMessagesMetric(service.baseUrl);
      expect(samples.get(REPORTS_DEAD_LETTERS)).toBe(held);
      expect(samples.get(UnroutableQueue)).toBe(held);
      expect(samples.get(deadLetterQueueOf(ConsumerQueues.DimseWorkerCommands.name))).toBe(0);
      // mwl-mpps-service never ran on this broker: its queues do not exist, so no sample.
      expect(samples.has(deadLetterQueueOf(ConsumerQueues.MwlMppsCommands.name))).toBe(false);
    });
  });
});
