import type { DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { preparedByPlatform } from './database-mode';

export interface ServiceDataSourceInput {
  url: string;
  /** Each service owns one schema; its tables, migrations table and search_path live there. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  poolSize?: number;
  /** Production: search_path is the role's own, not a connection option (preparedByPlatform). */
  searchPathByRole?: boolean;
}

export function serviceDataSourceOptions(
  input: ServiceDataSourceInput,
): DataSourceOptions & { schema: string } {
  const searchPathByRole = input.searchPathByRole ?? preparedByPlatform();
  const options: PostgresConnectionOptions = {
    type: 'postgres',
    url: input.url,
    schema: input.schema,
    entities: input.entities,
    migrations: input.migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    // The migrations create what the schema needs (gen_random_uuid() is built in): a connection
    // installs no extension, which a role that may only read and write could not do anyway.
    installExtensions: false,
    // TypeORM's own logger prints failed queries with their parameters to the console: off. Errors
    // reach the caller, whose edge logs them without parameters.
    logging: false,
    poolSize: input.poolSize ?? 10,
    // A connect that gets no answer fails after 10 s rather than never (node-postgres waits forever by
    // default), so that code waiting for the database (waitForDatabase) sees the outage and backs off.
    // Outside production, search_path as a connection option: raw SQL in migrations and repositories
    // then resolves unqualified names in the service's schema whichever role connects.
    extra: {
      ...(searchPathByRole ? {} : { options: `-c search_path=${input.schema}` }),
      connectionTimeoutMillis: 10_000,
    },
  };
  return options as DataSourceOptions & { schema: string };
}
