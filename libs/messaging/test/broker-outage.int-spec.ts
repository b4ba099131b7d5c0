import type { TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { Exchanges } from '@pacslink/contracts';
import {
  TcpProxy,
  amqpUrlFor,
  createTestDatabase,
  createTestVhost,
  type TestDatabase,
  type TestVhost,
} from '@pacslink/testing';
import {
  BrokerConnection,
  ConfirmedPublisher,
  MessageConsumer,
  Outbox,
  OutboxMessage,
  createEnvelope,
} from '../src';
import { Announcement, BrokerProbe, Ping, TestQueue, createReplica, waitFor } from './messaging-harness';

/**
 * The service reaches RabbitMQ through a TCP proxy of the test's own, so the network can be cut
 * and healed while the machine's broker keeps running.
 */
describe('broker unreachable (real RabbitMQ behind a TCP proxy)', () => {
  const PUBLISH_TIMEOUT_MS = 1_000;
  let database: TestDatabase;
  let vhost: TestVhost;
  let proxy: TcpProxy;
  let probe: BrokerProbe;
  let replica: TestingModule;
  const pinged: number[] = [];

  beforeAll(async () => {
    [database, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    const broker = new URL(vhost.url);
    proxy = await new TcpProxy(broker.hostname, Number(broker.port || 5672)).start();
    probe = await BrokerProbe.open(vhost.url);
    const proxied = new URL(vhost.url);
    proxied.port = String(proxy.port);
    replica = await createReplica({
      amqpUrl: amqpUrlFor(proxied.toString(), vhost.name),
      databaseUrl: database.url,
      messaging: { publishTimeoutMs: PUBLISH_TIMEOUT_MS, heartbeatSeconds: 1, reconnectSeconds: 0.2 },
      relay: { pollIntervalMs: 100 },
    });
    const consumer = replica.get(MessageConsumer);
    consumer.on(TestQueue, Ping, (data) => {
      pinged.push(data.sequence);
      return Promise.resolve();
    });
    await replica.init();
    await consumer.attached();
  });

  afterAll(async () => {
    await replica.close();
    await probe.close();
    await proxy.close();
    await Promise.all([database.drop(), vhost.drop()]);
  });

  function ping(sequence: number): void {
    const envelope = createEnvelope(Ping, { text: 'ping', sequence });
    probe.channel.publish(Exchanges.Commands, Ping.type, Buffer.from(JSON.stringify(envelope)), {
      messageId: envelope.eventId,
      persistent: true,
    });
  }

  it('delivers an outbox message written while the broker was unreachable once it is back, and the consumer re-attaches', async () => {
    const connection = replica.get(BrokerConnection);
    const events = await probe.tap(Exchanges.Events, 'test.#');
    ping(1);
    await waitFor(() => pinged.includes(1), 10_000, 'the first ping');

    await proxy.cut();
    await waitFor(() => !connection.isConnected(), 10_000, 'the service to notice the cut');
    const dataSource = replica.get(DataSource);
    const envelope = await dataSource.transaction((manager) =>
      replica.get(Outbox).enqueue(manager, Announcement, { text: 'written during the outage', sequence: 7 }),
    );
    await waitFor(
      async () =>
        ((await dataSource.getRepository(OutboxMessage).findOneByOrFail({ id: envelope.eventId })).attempts ??
          0) > 0,
      10_000,
      'a failed publish attempt',
    );
    ping(2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(events).toHaveLength(0);
    expect(pinged).not.toContain(2);

    await proxy.restore();
    await waitFor(() => connection.isConnected(), 15_000, 'the reconnect');
    await waitFor(() => events.length > 0, 30_000, 'the outbox message after the outage');
    await waitFor(() => pinged.includes(2), 15_000, 'the consumer to re-attach and take the queued ping');

    expect(events.map((message) => message.properties.messageId as string)).toEqual([envelope.eventId]);
    // The relay marks the row sent when its transaction commits, a moment after the broker delivered.
    const row = () => dataSource.getRepository(OutboxMessage).findOneByOrFail({ id: envelope.eventId });
    await waitFor(async () => (await row()).sentAt !== null, 5_000, 'the row to be marked sent');
    expect((await row()).attempts).toBeGreaterThan(0);
  });

  it('rejects a publish to a broker that silently stops answering within the confirm timeout, instead of hanging', async () => {
    const publisher = replica.get(ConfirmedPublisher);
    await publisher.publish(Exchanges.Events, createEnvelope(Announcement, { text: 'before', sequence: 1 }));
    proxy.blackhole();
    const started = Date.now();
    await expect(
      publisher.publish(
        Exchanges.Events,
        createEnvelope(Announcement, { text: 'into the void', sequence: 2 }),
      ),
    ).rejects.toThrow(/timeout/);
    expect(Date.now() - started).toBeLessThan(PUBLISH_TIMEOUT_MS + 1_000);
    const connection = replica.get(BrokerConnection);
    await waitFor(() => !connection.isConnected(), 10_000, 'the heartbeat to declare the connection dead');

    await proxy.restore();
    await waitFor(() => connection.isConnected(), 20_000, 'the reconnect');
    await waitFor(
      () =>
        publisher
          .publish(Exchanges.Events, createEnvelope(Announcement, { text: 'after', sequence: 3 }))
          .then(() => true)
          .catch(() => false),
      20_000,
      'a confirmed publish after the blackhole',
    );
  });
});
