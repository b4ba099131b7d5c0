import { Client } from 'pg';
import { DataSource, type DataSourceOptions, MigrationExecutor, type QueryRunner } from 'typeorm';
import { databaseNameOf, quoteIdentifier, withDatabase } from './database-url';

const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';

type SchemaOptions = DataSourceOptions & { schema: string };

/**
 * Creates the database named by `url` if it does not exist (several services may race to do it).
 * A development convenience: in production the database is the platform's (preparedByPlatform).
 */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseNameOf(url);
  const client = new Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== DUPLICATE_DATABASE && code !== UNIQUE_VIOLATION) throw error;
  } finally {
    await client.end();
  }
}

/**
 * Creates the service's schema if it is absent and applies its pending migrations; returns their
 * names. An advisory lock per schema lets replicas start together: one migrates, the others wait
 * and then find nothing to do. With `searchPathByRole`, the connecting role's search_path must
 * name the schema, or the migrations' unqualified names would land elsewhere.
 */
export async function migrateSchema(options: SchemaOptions, searchPathByRole = false): Promise<string[]> {
  const dataSource = new DataSource({ ...options, migrationsRun: false, synchronize: false });
  await dataSource.initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`pacslink:migrate:${options.schema}`]);
    // Looked up first: CREATE SCHEMA IF NOT EXISTS needs the right to create schemas even when the
    // schema exists, and a schema's owner that the platform created it for has no such right.
    if (!(await schemaExists(lock, options.schema)))
      await lock.query(`CREATE SCHEMA ${quoteIdentifier(options.schema)}`);
    if (searchPathByRole) await verifySearchPath(lock, options.schema);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await lock.release();
    await dataSource.destroy();
  }
}

/**
 * Production boot: the service runs no DDL, it only checks that the role it connects as resolves
 * names in its schema and that the migrate Job has applied every migration this build has;
 * otherwise it refuses to start, saying what to do.
 */
export async function verifySchemaReady(options: SchemaOptions, migrateCommand: string): Promise<void> {
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  const runLater = `run \`${migrateCommand}\` (the migrate Job, as the schema's owner; docs/operations/database.md) first`;
  try {
    if (!(await schemaExists(runner, options.schema))) {
      throw new Error(
        `schema "${options.schema}" does not exist: in production a service does not create it; ${runLater}`,
      );
    }
    await verifySearchPath(runner, options.schema);
    const pending = await new MigrationExecutor(dataSource, runner).getPendingMigrations();
    if (pending.length > 0) {
      const names = pending.map((migration) => migration.name).join(', ');
      throw new Error(
        `schema "${options.schema}" lacks ${pending.length} migration(s) of this build (${names}); ` +
          `in production a service does not migrate at boot; ${runLater}`,
      );
    }
  } finally {
    await runner.release();
    await dataSource.destroy();
  }
}

async function schemaExists(runner: QueryRunner, schema: string): Promise<boolean> {
  const found = (await runner.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])) as unknown[];
  return found.length > 0;
}

/** current_schema() is the first schema of search_path that exists: it must be the service's. */
async function verifySearchPath(runner: QueryRunner, schema: string): Promise<void> {
  const [row] = (await runner.query(
    'SELECT current_schema() AS current, current_user AS role, current_database() AS database',
  )) as { current: string | null; role: string; database: string }[];
  if (row.current === schema) return;
  throw new Error(
    `role "${row.role}" resolves names in ${row.current === null ? 'no schema' : `schema "${row.current}"`}, ` +
      `not "${schema}": in production search_path comes from the role, not the connection ` +
      `(ALTER ROLE ${quoteIdentifier(row.role)} IN DATABASE ${quoteIdentifier(row.database)} ` +
      `SET search_path = ${quoteIdentifier(schema)}; docs/operations/database.md)`,
  );
}
