import { Client } from 'pg';
import { quoteIdentifier, withDatabase } from '@pacslink/persistence';
import { testRunId, uniqueSuffix } from '../run-id';

export const TEMPLATE_DATABASE_ENV = 'PACSLINK_TEST_TEMPLATE_DATABASE';

export interface TestDatabase {
  name: string;
  url: string;
  drop: () => Promise<void>;
}

export function testDatabasePrefix(): string {
  return `pacslink_test_${testRunId()}`;
}

async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const url = process.env.DATABASE_URL;
  if (!url)
    throw new Error('DATABASE_URL is not set: integration tests run through `npm test` (jest global setup)');
  const client = new Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A database of the test's own: a clone of the template the global setup migrated with every
 * service's schema (CREATE DATABASE … TEMPLATE takes milliseconds, a migration run seconds).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = process.env[TEMPLATE_DATABASE_ENV];
  if (!template) throw new Error(`${TEMPLATE_DATABASE_ENV} is not set: run the tests through \`npm test\``);
  const name = `${testDatabasePrefix()}_${uniqueSuffix()}`;
  await withAdmin((client) =>
    client.query(`CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE ${quoteIdentifier(template)}`),
  );
  return {
    name,
    url: withDatabase(process.env.DATABASE_URL as string, name),
    drop: () => dropDatabase(name),
  };
}

export async function createEmptyDatabase(name: string): Promise<string> {
  await withAdmin((client) => client.query(`CREATE DATABASE ${quoteIdentifier(name)}`));
  return withDatabase(process.env.DATABASE_URL as string, name);
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`));
}

/** Drops every database whose name starts with `prefix` (a run's leftovers). */
export async function dropDatabasesWithPrefix(prefix: string): Promise<void> {
  const names = await withAdmin(async (client) => {
    const found = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
      [prefix],
    );
    return found.rows.map((row) => row.datname);
  });
  for (const name of names) await dropDatabase(name);
}
