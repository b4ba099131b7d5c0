import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Client, type QueryResultRow } from 'pg';
import { CONFIG_SCHEMA } from '../../../apps/config-service/src/config';
import {
  TcpProxy,
  createEmptyDatabase,
  createTestVhost,
  dropDatabase,
  testDatabasePrefix,
  testRunId,
  uniqueSuffix,
  type ManagementApi,
  type TestDatabase,
  type TestVhost,
  freePort,
} from '@pacslink/testing';
import { BrokerClient } from './broker-client';
import { FAULT_APPS, builtServices, type BuiltServices, type FaultApp } from './built-services';
import { EventRecorder } from './event-recorder';
import { ServiceProcess, type TerminateResult } from './service-process';
import { SuiteApi } from './suite-api';

/** Where every fault run keeps its logs and figures (tmp/ is not versioned). */
export const FAULTS_DIR = resolve(__dirname, '..', '..', '..', 'tmp', 'faults');

export interface FaultStackOptions {
  /** Names the suite's folder under tmp/faults/<run>/. */
  suite: string;
  /** Over every config-service replica's environment (e.g. TRANSFER_RETRY_BASE_MS). */
  configServiceEnv?: Record<string, string>;
}

/** Kubernetes' grace period for the app (k8s/base/<app>.yaml), the suite's SIGKILL deadline after SIGTERM. */
function graceMsOf(built: BuiltServices, app: FaultApp): number {
  const manifest = join(built.root, 'k8s', 'base', `${app}.yaml`);
  const seconds = existsSync(manifest)
    ? /terminationGracePeriodSeconds:\s*(\d+)/.exec(readFileSync(manifest, 'utf8'))?.[1]
    : undefined;
  // Kubernetes' own default when a manifest names none.
  return Number(seconds ?? 30) * 1_000;
}

/**
 * pacslink as a deployment runs it, for one fault suite file: two config-service replicas and two of
 * each worker, each a process from dist/ on its own HTTP port, with a database (empty: the built
 * config-service migrates it at boot, as a deployment's does, so the schema is always the build's
 * own) and a RabbitMQ vhost of the suite's own, reached through TCP proxies of the
 * suite's own so that a test can cut the broker or the database without touching anyone else.
 */
export class FaultStack {
  readonly replicas = new Map<FaultApp, ServiceProcess[]>(FAULT_APPS.map((app) => [app, []]));
  readonly api: SuiteApi;
  private readonly started = new Map<FaultApp, number>();
  private readonly reportedCrashes = new Set<ServiceProcess>();
  private sqlClient?: Promise<Client>;

  private constructor(
    private readonly built: BuiltServices,
    private readonly options: FaultStackOptions,
    readonly dir: string,
    readonly database: TestDatabase,
    readonly vhost: TestVhost,
    /** Every service's way to Postgres (config-service's DATABASE_URL). */
    readonly databaseLink: TcpProxy,
    /** Every service's way to RabbitMQ (AMQP_URL). */
    readonly brokerLink: TcpProxy,
    readonly events: EventRecorder,
    /** The suite's own AMQP connection to the vhost, around the cuttable link. */
    readonly broker: BrokerClient,
    readonly storeDir: string,
    private readonly secretsKey: string,
    readonly apiKey: string,
  ) {
    this.api = new SuiteApi(() => this.replicas.get('config-service') ?? [], apiKey);
  }

  static async start(options: FaultStackOptions): Promise<FaultStack> {
    const built = builtServices();
    const dir = join(FAULTS_DIR, testRunId(), options.suite);
    const storeDir = join(dir, 'store');
    await mkdir(join(dir, 'logs'), { recursive: true });
    await mkdir(storeDir, { recursive: true });
    const name = `${testDatabasePrefix()}_${uniqueSuffix()}`;
    const [url, vhost] = await Promise.all([createEmptyDatabase(name), createTestVhost()]);
    const database: TestDatabase = { name, url, drop: () => dropDatabase(name) };
    const postgres = new URL(database.url);
    const broker = new URL(vhost.url);
    const databaseLink = await new TcpProxy(postgres.hostname, Number(postgres.port || 5432)).start();
    const brokerLink = await new TcpProxy(broker.hostname, Number(broker.port || 5672)).start();
    // Bound before the services start, so that no transfer event can pass unseen.
    const events = await EventRecorder.start(vhost.url);
    const stack = new FaultStack(
      built,
      options,
      dir,
      database,
      vhost,
      databaseLink,
      brokerLink,
      events,
      await BrokerClient.connect(vhost.url),
      storeDir,
      randomBytes(32).toString('base64'),
      `faults-${randomBytes(12).toString('hex')}`,
    );
    try {
      await Promise.all(FAULT_APPS.flatMap((app) => [stack.startReplica(app), stack.startReplica(app)]));
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  get management(): ManagementApi {
    return this.vhost.management;
  }

  /** Starts one more replica of `app` and waits until it is ready. */
  async startReplica(app: FaultApp): Promise<ServiceProcess> {
    const number = (this.started.get(app) ?? 0) + 1;
    this.started.set(app, number);
    const name = `${app}-${number}`;
    const replica = ServiceProcess.start(
      this.built,
      app,
      name,
      await freePort(),
      await this.envOf(app),
      join(this.dir, 'logs', `${name}.log`),
    );
    this.replicas.get(app)?.push(replica);
    await replica.waitReady();
    return replica;
  }

  live(app: FaultApp): ServiceProcess[] {
    return (this.replicas.get(app) ?? []).filter((replica) => replica.alive);
  }

  graceMs(app: FaultApp): number {
    return graceMsOf(this.built, app);
  }

  /** SIGTERM with the app's Kubernetes grace period; SIGKILL after it. */
  terminate(replica: ServiceProcess): Promise<TerminateResult> {
    return replica.terminate(this.graceMs(replica.app));
  }

  /**
   * A rolling update, as a Deployment with maxSurge 1 / maxUnavailable 0 does it: for each live
   * replica, start its replacement, wait until that is ready (and `beforeTerminate`), then SIGTERM
   * the old one.
   */
  async rollingRestart(
    app: FaultApp,
    beforeTerminate: (old: ServiceProcess) => Promise<void> = () => Promise.resolve(),
  ): Promise<TerminateResult[]> {
    const results: TerminateResult[] = [];
    for (const old of this.live(app)) {
      await this.startReplica(app);
      await beforeTerminate(old);
      results.push(await this.terminate(old));
    }
    return results;
  }

  /** A query on the suite's database, on a connection of the suite's own (not through the cuttable link). */
  async query<T extends QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
    this.sqlClient ??= (async () => {
      const client = new Client({
        connectionString: this.database.url,
        options: `-c search_path=${CONFIG_SCHEMA}`,
      });
      await client.connect();
      return client;
    })();
    return (await (await this.sqlClient).query<T>(text, values)).rows;
  }

  /** Replicas that exited without the suite stopping them, each reported once. */
  crashes(): ServiceProcess[] {
    const crashed = [...this.replicas.values()]
      .flat()
      .filter((replica) => !replica.alive && !replica.stopping && !this.reportedCrashes.has(replica));
    for (const replica of crashed) this.reportedCrashes.add(replica);
    return crashed;
  }

  /** The replicas' logs, for a failure message: the last lines of each. */
  async logTails(lines = 15): Promise<string> {
    const all = [...this.replicas.values()].flat();
    const tails = await Promise.all(
      all.map(async (replica) => `--- ${replica.name}\n${await replica.tail(lines)}`),
    );
    return tails.join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all([...this.replicas.values()].flat().map((replica) => replica.kill()));
    await this.sqlClient?.then((client) => client.end()).catch(() => undefined);
    await this.events.close().catch(() => undefined);
    await this.broker.close().catch(() => undefined);
    await this.brokerLink.close();
    await this.databaseLink.close();
    await this.vhost.drop();
    await this.database.drop();
    await rm(this.storeDir, { recursive: true, force: true });
  }

  private async envOf(app: FaultApp): Promise<NodeJS.ProcessEnv> {
    const amqp = new URL(this.vhost.url);
    amqp.host = `127.0.0.1:${this.brokerLink.port}`;
    const common: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_ENV: 'development',
      LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? 'info',
      LOG_FORMAT: 'json',
      AMQP_URL: amqp.toString(),
      STORE_DIR: this.storeDir,
    };
    switch (app) {
      case 'config-service': {
        const database = new URL(this.database.url);
        database.host = `127.0.0.1:${this.databaseLink.port}`;
        return {
          ...common,
          DATABASE_URL: database.toString(),
          SECRETS_KEY: this.secretsKey,
          API_KEYS: this.apiKey,
          ...this.options.configServiceEnv,
        };
      }
      case 'dimse-worker':
        return { ...common, SCP_PORT: String(await freePort()) };
      case 'dicomweb-worker':
        return { ...common, SECRETS_KEY: this.secretsKey };
    }
  }
}
