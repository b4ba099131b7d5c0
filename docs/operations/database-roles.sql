-- pacslink's database roles for one service's schema (docs/operations/database.md).
-- Run as a database administrator, connected to pacslink's database, once per service that has a
-- database (config-service: schema config; mwl-mpps-service: schema mwl), with psql variables:
--
--   psql "postgres://admin@db.example/pacslink" -v ON_ERROR_STOP=1 \
--     -v database=pacslink -v schema=config \
--     -v owner=pacslink_config_owner -v owner_password='…' \
--     -v runtime=pacslink_config -v runtime_password='…' \
--     -f docs/operations/database-roles.sql
--
-- The test apps/config-service/test/database-roles.e2e-spec.ts runs this very file.

-- The owner: the migrate Job's role (MIGRATE_DATABASE_URL). It owns the schema, so it may run any
-- DDL in it, and nothing outside it.
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password';
-- The runtime role: the service's own (DATABASE_URL). It may read and write the schema's rows.
CREATE ROLE :"runtime" LOGIN PASSWORD :'runtime_password';

-- Only these roles (and administrators) connect; no one else may create anything in the database.
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"owner", :"runtime";

CREATE SCHEMA IF NOT EXISTS :"schema" AUTHORIZATION :"owner";
ALTER SCHEMA :"schema" OWNER TO :"owner";

-- search_path by role, not by connection option: PgBouncer in transaction mode does not pass
-- connection options on, and every new server connection of the role gets this setting.
ALTER ROLE :"owner" IN DATABASE :"database" SET search_path = :"schema";
ALTER ROLE :"runtime" IN DATABASE :"database" SET search_path = :"schema";

-- Rows, not structure: no CREATE on the schema, no TRUNCATE, no REFERENCES, no TRIGGER.
GRANT USAGE ON SCHEMA :"schema" TO :"runtime";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"runtime";
GRANT USAGE ON ALL SEQUENCES IN SCHEMA :"schema" TO :"runtime";
-- Tables and sequences the owner's later migrations create follow without another grant.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema"
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"runtime";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema"
  GRANT USAGE ON SEQUENCES TO :"runtime";
