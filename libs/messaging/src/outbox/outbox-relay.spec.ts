import type { DataSource } from 'typeorm';
import type { ConfirmedPublisher } from '../confirmed-publisher';
import { OutboxRelay } from './outbox-relay';

describe('OutboxRelay wake-ups', () => {
  it('relays again at once when woken while a batch was being relayed, not after the poll interval', async () => {
    const dataSource = {
      getRepository: () => ({ delete: () => Promise.resolve() }),
    } as unknown as DataSource;
    const relay = new OutboxRelay(dataSource, {} as ConfirmedPublisher, {
      batchSize: 100,
      pollIntervalMs: 60_000,
      retainSentMs: 60_000,
    });
    let calls = 0;
    const secondCall = new Promise<void>((resolve) => {
      jest.spyOn(relay, 'relayBatch').mockImplementation(() => {
        calls += 1;
        // A transaction committed rows (and woke the relay) while this batch was in flight.
        if (calls === 1) relay.wake();
        if (calls === 2) resolve();
        return Promise.resolve(0);
      });
    });
    relay.onApplicationBootstrap();
    const started = Date.now();
    await secondCall;
    expect(Date.now() - started).toBeLessThan(1_000);
    await relay.onModuleDestroy();
  });
});
