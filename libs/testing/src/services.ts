import { existsSync } from 'node:fs';
import { connect } from 'node:net';

export interface BackingServices {
  databaseUrl: string;
  amqpUrl: string;
  managementUrl: string;
  /** Stops what this run started (containers); a no-op for services that were already running. */
  stop: () => Promise<void>;
}

const DOCKER_SOCKET = '/var/run/docker.sock';
/** The contract's default URLs: a developer machine with both services running locally. */
const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/**
 * Postgres and RabbitMQ for the tests: the running ones named by DATABASE_URL / AMQP_URL (this
 * machine and CI), else containers when a Docker engine is there, else the contract's default
 * local URLs if both answer, else a clear failure saying what to start.
 */
export async function resolveBackingServices(env: NodeJS.ProcessEnv = process.env): Promise<BackingServices> {
  if (env.DATABASE_URL && env.AMQP_URL) {
    return {
      databaseUrl: env.DATABASE_URL,
      amqpUrl: env.AMQP_URL,
      managementUrl: env.RABBITMQ_MANAGEMENT_URL ?? managementUrlOf(env.AMQP_URL),
      stop: () => Promise.resolve(),
    };
  }
  if (existsSync(DOCKER_SOCKET) || env.DOCKER_HOST) return startContainers();
  if (await bothAnswer(LOCAL_DATABASE_URL, LOCAL_AMQP_URL)) {
    return {
      databaseUrl: LOCAL_DATABASE_URL,
      amqpUrl: LOCAL_AMQP_URL,
      managementUrl: managementUrlOf(LOCAL_AMQP_URL),
      stop: () => Promise.resolve(),
    };
  }
  throw new Error(
    'integration tests need Postgres and RabbitMQ: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/pacslink) ' +
      'and AMQP_URL (e.g. amqp://guest:guest@127.0.0.1:5672) with the rabbitmq_management plugin enabled, ' +
      'or run a Docker engine so that testcontainers can start them',
  );
}

/** The management API beside an AMQP URL: same host and credentials, port 15672. */
export function managementUrlOf(amqpUrl: string): string {
  const amqp = new URL(amqpUrl);
  const user = decodeURIComponent(amqp.username || 'guest');
  const password = decodeURIComponent(amqp.password || 'guest');
  return `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${amqp.hostname}:15672`;
}

async function bothAnswer(databaseUrl: string, amqpUrl: string): Promise<boolean> {
  const answers = (port: number, host: string) =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ port, host, timeout: 1_000 });
      const settle = (up: boolean) => {
        socket.destroy();
        resolve(up);
      };
      socket.once('connect', () => settle(true));
      socket.once('error', () => settle(false));
      socket.once('timeout', () => settle(false));
    });
  const database = new URL(databaseUrl);
  const amqp = new URL(amqpUrl);
  const results = await Promise.all([
    answers(Number(database.port || 5432), database.hostname),
    answers(Number(amqp.port || 5672), amqp.hostname),
  ]);
  return results.every(Boolean);
}

async function startContainers(): Promise<BackingServices> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const { RabbitMQContainer } = await import('@testcontainers/rabbitmq');
  const [postgres, rabbit] = await Promise.all([
    new PostgreSqlContainer('postgres:15').withUsername('postgres').withPassword('postgres').start(),
    new RabbitMQContainer('rabbitmq:3.13-management').start(),
  ]);
  const amqpUrl = rabbit.getAmqpUrl();
  return {
    databaseUrl: postgres.getConnectionUri(),
    amqpUrl,
    managementUrl: `http://guest:guest@${rabbit.getHost()}:${rabbit.getMappedPort(15672)}`,
    stop: async () => {
      await Promise.all([postgres.stop(), rabbit.stop()]);
    },
  };
}
