import type { TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { Exchanges } from '@pacslink/contracts';
import { createTestVhost, type TestVhost } from '@pacslink/testing';
import { MessageConsumer, type MessageContext } from '../src';
import { BrokerProbe, Ping, TestQueue, createReplica, envelopeBody, waitFor } from './messaging-harness';

// A consumer that stops (the service got SIGTERM): no delivery reaches it any more, its handlers
// see their signal abort and finish, their acks go out; one that outlives the drain time loses its
// delivery to another replica (ADR 0002, "Shutdown").

const DRAIN_MS = 1_500;

interface Handled {
  replica: 'A' | 'B';
  text: string;
  /** Whether the handler's signal had aborted when it finished. */
  stopping: boolean;
  deliveryCount: number;
}

describe('a consumer that stops (real RabbitMQ)', () => {
  let vhost: TestVhost;
  let probe: BrokerProbe;
  const replicas: TestingModule[] = [];
  const started: string[] = [];
  const handled: Handled[] = [];

  async function replica(name: 'A' | 'B'): Promise<TestingModule> {
    const module = await createReplica({ amqpUrl: vhost.url, messaging: { drainMs: DRAIN_MS, prefetch: 4 } });
    const consumer = module.get(MessageConsumer);
    consumer.on(TestQueue, Ping, async (data, { signal, deliveryCount }: MessageContext) => {
      started.push(`${name}:${data.text}`);
      if (data.text === 'long') {
        // Wraps up when told to, as an export batch does at its next instance.
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
      } else if (data.text === 'stubborn') {
        await new Promise((resolve) => setTimeout(resolve, 3 * DRAIN_MS));
      }
      handled.push({ replica: name, text: data.text, stopping: signal.aborted, deliveryCount });
    });
    await module.init();
    await consumer.attached();
    replicas.push(module);
    return module;
  }

  function send(text: string): void {
    const eventId = randomUUID();
    probe.channel.publish(
      Exchanges.Commands,
      Ping.type,
      envelopeBody(Ping.type, { text, sequence: 0 }, eventId),
      {
        messageId: eventId,
        persistent: true,
      },
    );
  }

  beforeAll(async () => {
    vhost = await createTestVhost();
    probe = await BrokerProbe.open(vhost.url);
  });

  afterAll(async () => {
    for (const module of replicas) await module.close();
    await probe.close();
    await vhost.drop();
  });

  it('takes nothing after the stop, lets its handlers finish and ack, and hands back what outlives the drain', async () => {
    const a = await replica('A');
    send('long');
    send('stubborn');
    await waitFor(() => started.includes('A:long') && started.includes('A:stubborn'), 10_000, 'A busy');
    await replica('B');

    await a.get(MessageConsumer).stopConsuming(DRAIN_MS);
    for (let n = 0; n < 5; n++) send(`after ${n}`);
    await waitFor(() => handled.filter((h) => h.text.startsWith('after')).length === 5, 10_000, 'the rest');
    expect(handled.filter((h) => h.text.startsWith('after')).every((h) => h.replica === 'B')).toBe(true);
    // The long handler heard the stop at once and finished on A.
    expect(handled.find((h) => h.text === 'long')).toMatchObject({ replica: 'A', stopping: true });

    const closing = Date.now();
    await a.close();
    replicas.splice(replicas.indexOf(a), 1);
    // Closed at the drain deadline (counted from the stop), not after the stubborn handler.
    expect(Date.now() - closing).toBeLessThan(DRAIN_MS + 1_000);
    await waitFor(
      () => handled.some((h) => h.text === 'stubborn' && h.replica === 'B'),
      15_000,
      'the handover',
    );
    // Acked once: the long message never came back; the stubborn one did, to B.
    expect(started.filter((s) => s.endsWith(':long'))).toEqual(['A:long']);
    expect(handled.find((h) => h.text === 'stubborn' && h.replica === 'B')?.deliveryCount).toBeGreaterThan(0);
  });
});
