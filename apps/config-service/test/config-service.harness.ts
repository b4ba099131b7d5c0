import { createHash, randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { connect, type ChannelModel } from 'amqplib';
import { Client } from 'pg';
import { Exchanges } from '@pacslink/contracts';
import { runService } from '@pacslink/platform';
import {
  baseUrlOf,
  createTestDatabase,
  createTestVhost,
  dropDatabase,
  testDatabasePrefix,
  uniqueSuffix,
  type TestDatabase,
  type TestVhost,
} from '@pacslink/testing';
import { AppModule } from '../src/app.module';
import { CONFIG_SCHEMA, CONFIG_SERVICE, loadConfigServiceEnv } from '../src/config';
import { configureHttp } from '../src/http/configure-http';

/** Environment variables; an `undefined` value leaves the variable unset. */
export type Env = Partial<Record<string, string>>;

export interface ConfigServiceOptions {
  /** The key `call` authenticates with (default: a new one); see newApiKey. */
  apiKey?: string;
  /** Goes over the harness's environment (LOG_LEVEL silent, a random SECRETS_KEY, API_KEYS). */
  env?: Env;
  /**
   * Keys the service accepts besides `apiKey`, listed before it in API_KEYS; `null` leaves
   * API_KEYS unset (no authentication).
   */
  apiKeys?: string[] | null;
  /**
   * `template` (default): a clone of the migrated template database. `fresh`: a database that
   * does not exist yet, for the service to create and migrate as it boots. A TestDatabase: that
   * one, as a service before left it (see `close`), e.g. to restart with another environment.
   */
  database?: 'template' | 'fresh' | TestDatabase;
  /** Runs once the database and vhost exist, right before boot; what it returns goes over `env`. */
  beforeBoot?: (resources: { database: TestDatabase; vhost: TestVhost }) => Promise<Env | void> | Env | void;
}

export interface RunningConfigService {
  app: INestApplication;
  baseUrl: string;
  database: TestDatabase;
  vhost: TestVhost;
  /** The key `call` authenticates with. */
  apiKey: string;
  /** How the audit names `apiKey`. */
  actor: string;
  /**
   * `method` `/api/v1${path}` with `Bearer ${key}` (none when `key` is null). A string body is
   * sent as it is (so it may be malformed), anything else as JSON.
   */
  call(
    method: string,
    path: string,
    body?: unknown,
    key?: string | null,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** POSTs a PACS configuration, expects 201, and answers its id. */
  createPacsConfig(body: Record<string, unknown>): Promise<string>;
  /** The audit log, newest first, read with `apiKey`. */
  auditEntries(): Promise<AuditItem[]>;
  /** The OpenAPI document (/api/docs-json), read with `apiKey`. */
  apiDocument(): Promise<unknown>;
  /** A Postgres client on the service's schema; stop() ends it. */
  connectSql(): Promise<Client>;
  /** Hands every event published on pacslink.events under `bindingKey` to `onMessage`. */
  subscribe(bindingKey: string, onMessage: (body: string) => void): Promise<void>;
  /** Ends the clients, closes the service, drops its vhost and keeps its database. */
  close(): Promise<void>;
  /** Ends the clients, closes the service, drops its database and vhost. */
  stop(): Promise<void>;
}

/** A random API key (for a test that needs its key before the service starts). */
export function newApiKey(): string {
  return `test-key-${randomBytes(12).toString('hex')}`;
}

/** The audit names an API key by the first 12 hex digits of its SHA-256, never by the key. */
export function fingerprint(apiKey: string): string {
  return `key:${createHash('sha256').update(apiKey).digest('hex').slice(0, 12)}`;
}

function freshDatabase(): TestDatabase {
  const name = `${testDatabasePrefix()}_${uniqueSuffix()}`;
  const url = new URL(process.env.DATABASE_URL as string);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => dropDatabase(name) };
}

/** Boots config-service (AppModule, port 0) on a database and a RabbitMQ vhost of its own. */
export async function startConfigService(options: ConfigServiceOptions = {}): Promise<RunningConfigService> {
  const apiKey = options.apiKey ?? newApiKey();
  const [database, vhost] = await Promise.all([
    typeof options.database === 'object'
      ? options.database
      : options.database === 'fresh'
        ? freshDatabase()
        : createTestDatabase(),
    createTestVhost(),
  ]);
  const closers: (() => Promise<void>)[] = [];
  let app: INestApplication | undefined;
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
    await app?.close();
    await vhost.drop();
  };
  const stop = async () => {
    await close();
    await database.drop();
  };
  try {
    const { apiKeys = [] } = options;
    const env = loadConfigServiceEnv({
      DATABASE_URL: database.url,
      AMQP_URL: vhost.url,
      LOG_LEVEL: 'silent',
      SECRETS_KEY: randomBytes(32).toString('base64'),
      API_KEYS: apiKeys === null ? undefined : [...apiKeys, apiKey].join(', '),
      ...options.env,
      ...(await options.beforeBoot?.({ database, vhost })),
    });
    app = await runService(AppModule.forRoot(env), {
      service: CONFIG_SERVICE,
      port: 0,
      configure: (nest) => configureHttp(nest, env),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const baseUrl = baseUrlOf(app);
  const call: RunningConfigService['call'] = (method, path, body, key = apiKey, headers = {}) =>
    fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: {
        ...(key !== null ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  return {
    app,
    baseUrl,
    database,
    vhost,
    apiKey,
    actor: fingerprint(apiKey),
    call,
    async createPacsConfig(body) {
      const response = await call('POST', '/pacs-configs', body);
      expect(response.status).toBe(201);
      return ((await response.json()) as { id: string }).id;
    },
    async auditEntries() {
      const response = await call('GET', '/audit?limit=500');
      expect(response.status).toBe(200);
      return ((await response.json()) as { items: AuditItem[] }).items;
    },
    async apiDocument() {
      const response = await fetch(`${baseUrl}/api/docs-json`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      expect(response.status).toBe(200);
      return response.json();
    },
    async connectSql() {
      const sql = new Client({ connectionString: database.url, options: `-c search_path=${CONFIG_SCHEMA}` });
      await sql.connect();
      closers.push(() => sql.end());
      return sql;
    },
    async subscribe(bindingKey, onMessage) {
      const broker: ChannelModel = await connect(vhost.url);
      closers.push(() => broker.close());
      const channel = await broker.createChannel();
      await channel.assertExchange(Exchanges.Events, 'topic', { durable: true });
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, Exchanges.Events, bindingKey);
      await channel.consume(queue, (message) => message && onMessage(message.content.toString('utf8')), {
        noAck: true,
      });
    },
    close,
    stop,
  };
}

// Typed as unknown: jest's asymmetric matchers are `any`, which the lint rules keep out of objects.
export const A_STRING: unknown = expect.any(String);

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

export interface AuditItem {
  actor: string;
  actorName: string | null;
  action: string;
  entityType: string;
  entityId: string | null;
  change: Record<string, unknown>;
}

/** A problem+json answer with `status`, and its type, title and detail. */
export async function expectProblem(response: Response, status: number): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = (await response.json()) as Problem;
  expect(problem).toMatchObject({
    type: A_STRING,
    title: A_STRING,
    status,
    detail: A_STRING,
  });
  return problem;
}

/** A 400 whose `errors` list names `field`. */
export async function expectFieldError(response: Response, field: string): Promise<Problem> {
  const problem = await expectProblem(response, 400);
  expect(problem.type).toBe('https://pacslink.dev/problems/validation');
  expect(problem.errors).toEqual(
    expect.arrayContaining([{ field, message: expect.stringContaining(field) as unknown }]),
  );
  return problem;
}
