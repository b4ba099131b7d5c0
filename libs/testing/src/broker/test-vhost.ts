import { testRunId, uniqueSuffix } from '../run-id';
import { ManagementApi } from './management-api';

export const MANAGEMENT_URL_ENV = 'RABBITMQ_MANAGEMENT_URL';

export interface TestVhost {
  name: string;
  /** AMQP_URL with this vhost as its path. */
  url: string;
  management: ManagementApi;
  drop: () => Promise<void>;
}

export function testVhostPrefix(): string {
  return `pacslink-test-${testRunId()}`;
}

export function managementApi(): ManagementApi {
  const url = process.env[MANAGEMENT_URL_ENV];
  if (!url) throw new Error(`${MANAGEMENT_URL_ENV} is not set: run the tests through \`npm test\``);
  return new ManagementApi(url);
}

/** A vhost of the test's own: the product's real exchange and queue names, isolated. */
export async function createTestVhost(): Promise<TestVhost> {
  const amqpUrl = process.env.AMQP_URL;
  if (!amqpUrl) throw new Error('AMQP_URL is not set: run the tests through `npm test`');
  const management = managementApi();
  const name = `${testVhostPrefix()}-${uniqueSuffix()}`;
  const base = new URL(amqpUrl);
  await management.createVhost(name, decodeURIComponent(base.username || 'guest'));
  return { name, url: amqpUrlFor(amqpUrl, name), management, drop: () => management.deleteVhost(name) };
}

export function amqpUrlFor(amqpUrl: string, vhost: string): string {
  const url = new URL(amqpUrl);
  url.pathname = `/${encodeURIComponent(vhost)}`;
  return url.toString();
}
