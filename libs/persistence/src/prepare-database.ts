import { Client } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { databaseNameOf, quoteIdentifier, withDatabase } from './database-url';

const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';

/** Creates the database named by `url` if it does not exist (several services may race to do it). */
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
 * Creates the service's schema and applies its pending migrations. An advisory lock per schema
 * lets replicas start together: one migrates, the others wait and then find nothing to do.
 */
export async function migrateSchema(options: DataSourceOptions & { schema: string }): Promise<string[]> {
  const dataSource = new DataSource({ ...options, migrationsRun: false, synchronize: false });
  await dataSource.initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`pacslink:migrate:${options.schema}`]);
    await lock.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(options.schema)}`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await lock.release();
    await dataSource.destroy();
  }
}
