/**
 * Who prepares the database. Outside production (development, the tests) the service does it
 * itself at boot: creates its database, migrates its schema, and sets its search_path on each
 * connection (the tests share one role across schemas). In production the platform's roles do
 * (docs/operations/database.md): the migrate Job runs the DDL as the schema's owner, the service
 * runs as a role that may only read and write, and search_path comes from that role (ALTER ROLE …
 * SET search_path), because PgBouncer in transaction mode does not pass a connection's options on.
 */
export function preparedByPlatform(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NODE_ENV === 'production';
}
