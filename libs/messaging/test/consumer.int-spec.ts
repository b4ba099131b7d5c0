import type { TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { Exchanges, UnroutableQueue, deadLetterQueueOf } from '@pacslink/contracts';
import { createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from '@pacslink/testing';
import { DEAD_LETTER_REASON_HEADER, Inbox, MessageConsumer, PermanentMessageError } from '../src';
import {
  BrokerProbe,
  Ping,
  Poison,
  TestQueue,
  createReplica,
  envelopeBody,
  waitFor,
} from './messaging-harness';

describe('consuming with manual acks (real RabbitMQ, real Postgres)', () => {
  const DELIVERY_LIMIT = 3;
  let database: TestDatabase;
  let vhost: TestVhost;
  let probe: BrokerProbe;
  let replica: TestingModule;
  const handled: { id: string; sequence: number }[] = [];
  const effects: string[] = [];
  let poisonAttempts = 0;

  beforeAll(async () => {
    [database, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    probe = await BrokerProbe.open(vhost.url);
    replica = await createReplica({
      amqpUrl: vhost.url,
      databaseUrl: database.url,
      messaging: { deliveryLimit: DELIVERY_LIMIT, prefetch: 4 },
    });
    const consumer = replica.get(MessageConsumer);
    const inbox = replica.get(Inbox);
    consumer.on(TestQueue, Ping, async (data, { envelope }) => {
      if (data.text === 'refuse') throw new PermanentMessageError('the ping asks for something impossible');
      handled.push({ id: envelope.eventId, sequence: data.sequence });
      await inbox.once('test-consumer', envelope.eventId, () => {
        effects.push(envelope.eventId);
        return Promise.resolve();
      });
    });
    consumer.on(TestQueue, Poison, () => {
      poisonAttempts++;
      return Promise.reject(new Error('the downstream system is down'));
    });
    await replica.init();
    await consumer.attached();
  });

  afterAll(async () => {
    await replica.close();
    await probe.close();
    await Promise.all([database.drop(), vhost.drop()]);
  });

  function send(type: string, data: object, eventId = randomUUID(), routingKey = type): string {
    probe.channel.publish(Exchanges.Commands, routingKey, envelopeBody(type, data, eventId), {
      messageId: eventId,
      persistent: true,
    });
    return eventId;
  }

  async function queueEmpty(name: string): Promise<boolean> {
    const { messageCount } = await probe.channel.checkQueue(name);
    return messageCount === 0;
  }

  it('declares the command queue as a quorum queue with a delivery limit and a dead-letter route', async () => {
    const queue = await vhost.management.queue(vhost.name, TestQueue.name);
    expect(queue.arguments).toMatchObject({
      'x-queue-type': 'quorum',
      'x-delivery-limit': DELIVERY_LIMIT,
      'x-dead-letter-exchange': Exchanges.DeadLetter,
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    });
    expect((await probe.channel.checkQueue(TestQueue.name)).consumerCount).toBe(1);
  });

  it('has the effect of a duplicate delivery once', async () => {
    const id = randomUUID();
    send('test.ping', { text: 'twice', sequence: 1 }, id);
    send('test.ping', { text: 'twice', sequence: 1 }, id);
    await waitFor(() => handled.filter((h) => h.id === id).length === 2, 10_000, 'both deliveries');
    await waitFor(() => queueEmpty(TestQueue.name), 5_000, 'both acked');
    expect(effects.filter((effect) => effect === id)).toEqual([id]);
  });

  it('dead-letters a message that keeps failing after the delivery limit, while the queue keeps flowing', async () => {
    const poisonId = send('test.poison', { text: 'poison', sequence: 0 });
    const good = Array.from({ length: 20 }, (_, i) => send('test.ping', { text: 'good', sequence: i }));
    await waitFor(() => good.every((id) => handled.some((h) => h.id === id)), 10_000, 'the good messages');
    expect(poisonAttempts).toBeLessThan(DELIVERY_LIMIT + 1);

    const [deadLetter] = await probe.drain(deadLetterQueueOf(TestQueue.name), 1, 30_000);
    expect(deadLetter.properties.messageId).toBe(poisonId);
    expect(poisonAttempts).toBe(DELIVERY_LIMIT + 1);
    const death = (deadLetter.properties.headers?.['x-death'] as { reason: string }[])[0];
    expect(death.reason).toBe('delivery_limit');
  });

  it.each([
    ['malformed JSON', Buffer.from('{"eventId": '), /malformed message: body is not JSON/],
    [
      'a contract violation',
      envelopeBody('test.ping', { text: 42, sequence: -1 }, randomUUID()),
      /invalid test.ping: text: .*sequence: /,
    ],
    [
      'an unknown field',
      envelopeBody('test.ping', { text: 'x', sequence: 1, patientName: 'Doe' }, randomUUID()),
      /property patientName should not exist/,
    ],
    [
      'an unsupported version',
      envelopeBody('test.ping', { text: 'x', sequence: 1 }, randomUUID(), 2),
      /version 2 is not supported/,
    ],
    [
      'an unknown type',
      envelopeBody('test.unheard-of', { text: 'x', sequence: 1 }, randomUUID()),
      /no handler for type test.unheard-of/,
    ],
  ])('dead-letters %s at once, with the reason, without calling a handler', async (_, body, reason) => {
    const before = handled.length;
    const id = randomUUID();
    probe.channel.publish(Exchanges.Commands, 'test.ping', body, { messageId: id, persistent: true });
    const [deadLetter] = await probe.drain(deadLetterQueueOf(TestQueue.name), 1);
    expect(deadLetter.properties.messageId).toBe(id);
    expect(String(deadLetter.properties.headers?.[DEAD_LETTER_REASON_HEADER])).toMatch(reason);
    expect(deadLetter.content.equals(body)).toBe(true);
    expect(handled.length).toBe(before);
  });

  it('dead-letters a PermanentMessageError at once, without retrying', async () => {
    const id = send('test.ping', { text: 'refuse', sequence: 1 });
    const [deadLetter] = await probe.drain(deadLetterQueueOf(TestQueue.name), 1);
    expect(deadLetter.properties.messageId).toBe(id);
    expect(deadLetter.properties.headers?.[DEAD_LETTER_REASON_HEADER]).toBe(
      'the ping asks for something impossible',
    );
    expect(deadLetter.properties.headers?.['x-delivery-count']).toBeUndefined();
  });

  it('routes a command nobody is bound for to the alternate exchange queue', async () => {
    const id = send('nobody.listens', { text: 'lost?', sequence: 1 });
    const [unroutable] = await probe.drain(UnroutableQueue, 1);
    expect(unroutable.properties.messageId).toBe(id);
    expect(unroutable.fields.routingKey).toBe('nobody.listens');
  });

  it('refuses two handlers for one type, a handler for a type the queue never receives, and a routed type without a handler', () => {
    const consumer = replica.get(MessageConsumer);
    expect(() => consumer.on(TestQueue, Ping, () => Promise.resolve())).toThrow(/two handlers for test.ping/);
    expect(() => consumer.on(TestQueue, { ...Ping, type: 'other.ping' }, () => Promise.resolve())).toThrow(
      /never routed to queue pacslink.test.commands/,
    );
    expect(() => consumer.checkHandlers([Ping, Poison])).not.toThrow();
    expect(() => consumer.checkHandlers([Ping, { ...Ping, type: 'test.pong' }])).toThrow(
      /receives test.pong but no handler is registered/,
    );
  });
});
