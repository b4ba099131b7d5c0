import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The API's AE title rule (PS3.5 6.2, VR AE: 1–16 printable ASCII characters other than backslash,
 * stored trimmed) repeated as a last line of defence.
 */
const aeTitle = (column: string): string =>
  `CHECK (char_length(${column}) BETWEEN 1 AND 16 AND ${column} ~ '^[\\x20-\\x5B\\x5D-\\x7E]+$' AND ${column} !~ '^ | $')`;

/**
 * PACS configurations: one table, the common columns plus typed columns per type (NULL where they
 * do not apply). Typed columns rather than a jsonb `settings` document because the database then
 * holds the rules itself (ranges, allowed values, "a dicomweb row has a url") and the capability
 * flags that lists and transfers filter on are plain boolean columns. Secrets: each auth method has
 * at most one, so one `auth_secret` column holds it, encrypted by SecretCipher and bound to this
 * row and to the secret's field name (password, token or clientSecret).
 */
export class CreatePacsConfigs1764200000200 implements MigrationInterface {
  name = 'CreatePacsConfigs1764200000200';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE pacs_config (
        id uuid PRIMARY KEY,
        type text NOT NULL CHECK (type IN ('dicomweb', 'dimse')),
        ae_title text NOT NULL ${aeTitle('ae_title')},
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
        version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
        timeout_ms integer NOT NULL CHECK (timeout_ms BETWEEN 1000 AND 600000),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),

        url text CHECK (char_length(url) <= 2048),
        qido_rs boolean,
        stow_rs boolean,
        stow_multipart_related boolean,
        source_ae_title text ${aeTitle('source_ae_title')},
        auth_method text CHECK (auth_method IN ('none', 'basic', 'bearer', 'oauth2-client-credentials')),
        auth_username text,
        auth_token_url text,
        auth_client_id text,
        auth_scope text,
        auth_secret text,

        host text CHECK (char_length(host) <= 253),
        port integer CHECK (port BETWEEN 1 AND 65535),
        c_store boolean,
        query_retrieve boolean,
        query_ae_title text ${aeTitle('query_ae_title')},
        retrieve_method text CHECK (retrieve_method IN ('get-then-move', 'get', 'move')),
        move_destination_ae_title text ${aeTitle('move_destination_ae_title')},
        mwl boolean,
        mwl_encoding text,
        mpps boolean,
        max_associations integer CHECK (max_associations BETWEEN 1 AND 64),

        CONSTRAINT pacs_config_dicomweb_columns CHECK (type <> 'dicomweb' OR (
          url IS NOT NULL AND qido_rs IS NOT NULL AND stow_rs IS NOT NULL
          AND stow_multipart_related IS NOT NULL AND auth_method IS NOT NULL
          AND host IS NULL AND port IS NULL AND c_store IS NULL AND query_retrieve IS NULL
          AND query_ae_title IS NULL AND retrieve_method IS NULL AND move_destination_ae_title IS NULL
          AND mwl IS NULL AND mwl_encoding IS NULL AND mpps IS NULL AND max_associations IS NULL)),
        CONSTRAINT pacs_config_dimse_columns CHECK (type <> 'dimse' OR (
          host IS NOT NULL AND port IS NOT NULL AND c_store IS NOT NULL AND query_retrieve IS NOT NULL
          AND retrieve_method IS NOT NULL AND move_destination_ae_title IS NOT NULL AND mwl IS NOT NULL
          AND mwl_encoding IS NOT NULL AND mpps IS NOT NULL AND max_associations IS NOT NULL
          AND url IS NULL AND qido_rs IS NULL AND stow_rs IS NULL AND stow_multipart_related IS NULL
          AND source_ae_title IS NULL AND auth_method IS NULL AND auth_username IS NULL
          AND auth_token_url IS NULL AND auth_client_id IS NULL AND auth_scope IS NULL
          AND auth_secret IS NULL)),
        -- Every method but "none" keeps exactly one secret.
        CONSTRAINT pacs_config_auth_secret CHECK (
          auth_method IS NULL OR (auth_method = 'none') = (auth_secret IS NULL))
      )`);
    // The contract: AE titles are unique across all configurations, compared case-insensitively.
    // The index, not a prior SELECT, decides: of two simultaneous creates one gets 23505.
    await db.query(`CREATE UNIQUE INDEX pacs_config_ae_title_key ON pacs_config (lower(ae_title))`);
    await db.query(`CREATE INDEX pacs_config_name ON pacs_config (name, created_at, id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE pacs_config`);
  }
}
