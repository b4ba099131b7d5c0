import type { TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { Exchanges } from '@pacslink/contracts';
import { createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from '@pacslink/testing';
import { Outbox } from '../src';
import { Announcement, BrokerProbe, createReplica, waitFor } from './messaging-harness';

describe('outbox relay (real Postgres, real RabbitMQ)', () => {
  let database: TestDatabase;
  let vhost: TestVhost;
  let probe: BrokerProbe;
  const replicas: TestingModule[] = [];

  beforeAll(async () => {
    [database, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    probe = await BrokerProbe.open(vhost.url);
  });

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await probe.close();
    await Promise.all([database.drop(), vhost.drop()]);
  });

  it('publishes every committed row exactly once with four relays running, and nothing of a rolled-back transaction', async () => {
    const received = await probe.tap(Exchanges.Events, 'test.#');
    for (let i = 0; i < 4; i++) {
      const replica = await createReplica({
        amqpUrl: vhost.url,
        databaseUrl: database.url,
        relay: { batchSize: 20 },
      });
      await replica.init();
      replicas.push(replica);
    }
    const [writer] = replicas;
    const dataSource = writer.get(DataSource);
    const outbox = writer.get(Outbox);

    const committed: string[] = [];
    const writes = Array.from({ length: 20 }, async (_, writerIndex) => {
      for (let i = 0; i < 15; i++) {
        const envelope = await dataSource.transaction((manager) =>
          outbox.enqueue(manager, Announcement, { text: `writer ${writerIndex}`, sequence: i }),
        );
        committed.push(envelope.eventId);
      }
    });
    let rolledBack = '';
    const rollback = dataSource
      .transaction(async (manager) => {
        rolledBack = (await outbox.enqueue(manager, Announcement, { text: 'never', sequence: 0 })).eventId;
        throw new Error('the state change failed');
      })
      .catch(() => undefined);
    await Promise.all([...writes, rollback]);

    await waitFor(
      () => received.length >= committed.length,
      30_000,
      `${committed.length} published messages`,
    );
    // Every row ends marked sent (its relay commits a moment after the broker delivered it), and a
    // second publication would have arrived by the time the quiet second below is over.
    const unsent = async () =>
      Number(
        (
          await dataSource.query<{ n: string }[]>(
            'SELECT count(*) AS n FROM outbox_message WHERE sent_at IS NULL',
          )
        )[0].n,
      );
    await waitFor(async () => (await unsent()) === 0, 5_000, 'every row marked sent');
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const ids = received.map((message) => message.properties.messageId as string);
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
    expect(new Set(ids)).toEqual(new Set(committed));
    expect(ids).not.toContain(rolledBack);
    const body = JSON.parse(received[0].content.toString('utf8')) as Record<string, unknown>;
    expect(body).toMatchObject({ type: 'test.announced', version: 1 });
    expect((body.data as { text?: unknown }).text).toMatch(/^writer \d+$/);
    expect(received[0].properties.deliveryMode).toBe(2);
  });

  it('refuses to enqueue outside a transaction, where a message could outlive a failed state change', async () => {
    const dataSource = replicas[0].get(DataSource);
    await expect(
      replicas[0].get(Outbox).enqueue(dataSource.manager, Announcement, { text: 'x', sequence: 1 }),
    ).rejects.toThrow(/inside the transaction/);
  });
});
