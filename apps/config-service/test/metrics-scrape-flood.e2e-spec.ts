import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from '@pacslink/testing';
import { newApiKey } from './config-service.harness';
import { startServiceProcess, type ServiceProcess } from './service-process.harness';

// /metrics needs no caller (Prometheus), and each collection reads the database (the transfer,
// batch, circuit and outbox gauges) and the broker's management API. A flood of concurrent
// scrapes must not become as many collections: that would queue the API's own queries behind
// them in the pool (docs/security.md, "Wave 2 surfaces"). config-service as a process, real
// Postgres: the transactions its database commits are counted.
jest.setTimeout(120_000);

/** Postgres flushes a backend's statistics within 10 s of it going idle (PGSTAT_IDLE_INTERVAL). */
const STATS_FLUSH_MS = 11_000;

describe('a flood of /metrics scrapes', () => {
  let database: TestDatabase;
  let vhost: TestVhost;
  let service: ServiceProcess;
  let admin: Client;

  const committed = async (): Promise<number> => {
    await admin.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await admin.query<{ xact_commit: string }>(
      'SELECT xact_commit FROM pg_stat_database WHERE datname = $1',
      [database.name],
    );
    return Number(rows[0].xact_commit);
  };

  beforeAll(async () => {
    [database, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    service = await startServiceProcess('config-service', {
      DATABASE_URL: database.url,
      AMQP_URL: vhost.url,
      API_KEYS: newApiKey(),
      SECRETS_KEY: randomBytes(32).toString('base64'),
    });
    admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await service?.stop();
    await Promise.all([database?.drop(), vhost?.drop()]);
  });

  it('100 concurrent scrapes share collections, not one each: the database sees about one scrape, not 100', async () => {
    const settle = () => new Promise((resolve) => setTimeout(resolve, STATS_FLUSH_MS));
    // The background's commits (outbox relay, sweeps) in a period without scrapes, for comparison.
    await settle();
    const before = await committed();
    await settle();
    const idle = await committed();
    const background = idle - before;

    const answers = await Promise.all(
      Array.from({ length: 100 }, () => fetch(`${service.baseUrl}/metrics`).then((r) => r.text())),
    );
    expect(answers.every((text) => text.includes('pacslink_http_request_duration_seconds'))).toBe(true);
    await settle();
    const flood = (await committed()) - idle - background;

    // One collection is about 5 transactions (the gauges' reads): 100 collections would be ~500.
    expect(flood).toBeLessThan(150);
  });
});
