import { Global, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { Exchanges } from '@pacslink/contracts';
import { serviceDataSourceOptions } from '@pacslink/persistence';
import {
  TcpProxy,
  createTestDatabase,
  createTestVhost,
  type TestDatabase,
  type TestVhost,
} from '@pacslink/testing';
import {
  MESSAGING_METRICS_REGISTRY,
  MessageConsumer,
  MessagingModule,
  OutboxModule,
  messagingEntities,
} from '../src';
import { BrokerProbe, Ping, TestQueue, envelopeBody, waitFor } from './messaging-harness';

/** A service's registry as PlatformModule binds it for messaging. */
function metricsModule(registry: Registry) {
  @Global()
  @Module({
    providers: [{ provide: MESSAGING_METRICS_REGISTRY, useValue: registry }],
    exports: [MESSAGING_METRICS_REGISTRY],
  })
  class MetricsModule {}
  return MetricsModule;
}

/** The value of a sample in the registry's exposition, undefined when the series is absent. */
async function sample(registry: Registry, series: RegExp): Promise<number | undefined> {
  const match = new RegExp(`^${series.source} (\\S+)$`, 'm').exec(await registry.metrics());
  return match ? Number(match[1]) : undefined;
}

describe('messaging metrics (real RabbitMQ, real Postgres)', () => {
  let vhost: TestVhost;
  let database: TestDatabase;

  beforeAll(async () => {
    [vhost, database] = await Promise.all([createTestVhost(), createTestDatabase()]);
  });

  afterAll(async () => {
    await Promise.all([vhost.drop(), database.drop()]);
  });

  it('counts a delivery the broker redelivers in pacslink_consumer_redeliveries_total{queue}', async () => {
    const registry = new Registry();
    const moduleRef: TestingModule = await Test.createTestingModule({
      imports: [
        metricsModule(registry),
        MessagingModule.forRoot({
          url: vhost.url,
          connectionName: 'metrics-test',
          consumerQueues: [TestQueue],
        }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    const probe = await BrokerProbe.open(vhost.url);
    try {
      let deliveries = 0;
      const consumer = moduleRef.get(MessageConsumer);
      consumer.on(TestQueue, Ping, () => {
        // Fails once: the consumer rejects it and the broker delivers it again, redelivered.
        deliveries++;
        return deliveries === 1 ? Promise.reject(new Error('not yet')) : Promise.resolve();
      });
      await moduleRef.init();
      await consumer.attached();
      const redelivered = /pacslink_consumer_redeliveries_total\{queue="pacslink\.test\.commands"\}/;
      expect(await sample(registry, redelivered)).toBeUndefined();

      const eventId = randomUUID();
      probe.channel.publish(
        Exchanges.Commands,
        Ping.type,
        envelopeBody(Ping.type, { text: 'x', sequence: 1 }, eventId),
        {
          messageId: eventId,
          persistent: true,
        },
      );
      await waitFor(() => deliveries === 2, 15_000, 'the redelivery');
      expect(await sample(registry, redelivered)).toBe(1);
    } finally {
      await probe.close();
      await moduleRef.close();
    }
  });

  it('shows the outbox backlog and its age, and leaves them out while the database is unreachable', async () => {
    const upstream = new URL(database.url);
    const proxy = await new TcpProxy(upstream.hostname, Number(upstream.port || 5432)).start();
    const proxied = new URL(database.url);
    proxied.port = String(proxy.port);
    const registry = new Registry();
    // Compiled, not started: the relay does not run, so what is written stays pending.
    const moduleRef = await Test.createTestingModule({
      imports: [
        metricsModule(registry),
        MessagingModule.forRoot({ url: vhost.url, connectionName: 'metrics-test', consumerQueues: [] }),
        TypeOrmModule.forRoot(
          serviceDataSourceOptions({
            url: proxied.toString(),
            schema: 'config',
            entities: messagingEntities,
            migrations: [],
            poolSize: 2,
          }),
        ),
        OutboxModule.forRoot(),
      ],
    }).compile();
    moduleRef.useLogger(false);
    try {
      const sql = moduleRef.get(DataSource);
      expect(await sample(registry, /pacslink_outbox_messages/)).toBe(0);
      expect(await sample(registry, /pacslink_outbox_oldest_age_seconds/)).toBe(0);
      for (const ageSeconds of [90, 5]) {
        await sql.query(
          `INSERT INTO outbox_message (id, exchange, routing_key, envelope, created_at)
           VALUES ($1, 'pacslink.events', 'test.announced', '{}', now() - make_interval(secs => $2))`,
          [randomUUID(), ageSeconds],
        );
      }
      await sql.query(
        `INSERT INTO outbox_message (id, exchange, routing_key, envelope, created_at, sent_at)
         VALUES ($1, 'pacslink.events', 'test.announced', '{}', now() - interval '1 hour', now())`,
        [randomUUID()],
      );
      expect(await sample(registry, /pacslink_outbox_messages/)).toBe(2);
      const age = await sample(registry, /pacslink_outbox_oldest_age_seconds/);
      expect(age).toBeGreaterThanOrEqual(90);
      expect(age).toBeLessThan(120);

      await proxy.cut();
      const started = Date.now();
      const text = await registry.metrics();
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(text).not.toMatch(/^pacslink_outbox_messages /m);
      expect(text).not.toMatch(/^pacslink_outbox_oldest_age_seconds /m);
      await proxy.restore();
    } finally {
      await moduleRef.close();
      await proxy.close();
    }
  });
});
