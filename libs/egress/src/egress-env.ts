import {
  EgressPolicy,
  parseCidrList,
  type DeniedEndpoint,
  type EgressAllow,
  type OwnEndpointKind,
} from './egress-policy';

/** The variables the policy is made of; every service that connects to a PACS reads them. */
export interface EgressEnv {
  NODE_ENV: 'development' | 'production' | 'test';
  AMQP_URL: string;
  /** Comma-separated CIDR ranges (IPv4, IPv6) a PACS may be in. Required in production. */
  EGRESS_ALLOW_CIDRS?: string;
  /** Comma-separated host:port of pacslink's own services, beside the broker and database. */
  EGRESS_DENY_ENDPOINTS?: string;
}

export interface OwnEndpoints {
  /**
   * The service's own DATABASE_URL, where it has one (its database is then refused by itself).
   * The workers have none: their deployment lists the database in EGRESS_DENY_ENDPOINTS.
   */
  databaseUrl?: string;
}

/**
 * A bad egress variable. Its own class rather than @pacslink/platform's EnvError: platform depends
 * on messaging, whose tests use libs/testing, which uses this library — importing platform here
 * would close that loop.
 */
export class EgressEnvError extends Error {
  override readonly name = 'EgressEnvError';
}

function invalid(variable: string, problem: string): EgressEnvError {
  return new EgressEnvError(`invalid environment:\n  ${variable} ${problem}`);
}

/** `host:port` or `[v6]:port`; undefined when it is neither. */
function parseEndpoint(text: string, defaultPort?: number): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text.trim());
  if (match === null) return undefined;
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port === undefined || port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2], port };
}

/** The host:port entries of a URL's authority (Postgres allows several: `h1:5432,h2:5433`). */
function endpointsOfUrl(url: string, defaultPort: number, kind: OwnEndpointKind): DeniedEndpoint[] {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? '';
  const hosts = authority.slice(authority.lastIndexOf('@') + 1);
  return hosts
    .split(',')
    .filter((entry) => entry !== '')
    .map((entry) => parseEndpoint(decodeURIComponent(entry), defaultPort))
    .filter((endpoint) => endpoint !== undefined)
    .map((endpoint) => ({ ...endpoint, kind }));
}

function allowOf(env: EgressEnv): EgressAllow {
  if (env.EGRESS_ALLOW_CIDRS === undefined) {
    if (env.NODE_ENV === 'production') {
      throw invalid(
        'EGRESS_ALLOW_CIDRS',
        'must be set when NODE_ENV=production: the CIDR ranges a PACS may be in, comma-separated (e.g. 10.20.0.0/16,2001:db8:20::/48)',
      );
    }
    return 'any';
  }
  try {
    return parseCidrList(env.EGRESS_ALLOW_CIDRS);
  } catch (error) {
    throw invalid('EGRESS_ALLOW_CIDRS', (error as Error).message);
  }
}

function denyOf(env: EgressEnv, own: OwnEndpoints): DeniedEndpoint[] {
  const listed = (env.EGRESS_DENY_ENDPOINTS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry): DeniedEndpoint => {
      const endpoint = parseEndpoint(entry);
      if (endpoint === undefined) {
        throw invalid('EGRESS_DENY_ENDPOINTS', `entry "${entry}" is not host:port (e.g. postgres:5432)`);
      }
      return { ...endpoint, kind: 'service' };
    });
  const amqpPort = env.AMQP_URL.startsWith('amqps:') ? 5671 : 5672;
  return [
    ...endpointsOfUrl(env.AMQP_URL, amqpPort, 'broker'),
    ...(own.databaseUrl === undefined ? [] : endpointsOfUrl(own.databaseUrl, 5432, 'database')),
    ...listed,
  ];
}

/**
 * The policy the environment describes: its variables only, whatever else `env` holds. Throws an
 * EgressEnvError naming the variable: EGRESS_ALLOW_CIDRS missing in production or not a list of ranges,
 * EGRESS_DENY_ENDPOINTS not host:port entries.
 */
export function egressPolicyFromEnv(env: EgressEnv, own: OwnEndpoints = {}): EgressPolicy {
  return new EgressPolicy(allowOf(env), denyOf(env, own));
}
