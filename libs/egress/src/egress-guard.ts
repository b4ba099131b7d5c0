import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';
import { EgressRefusedError } from './egress.errors';
import {
  isLoopbackOrUnspecified,
  normalizedAddress,
  parseAddress,
  type EgressPolicy,
  type IpAddress,
  type ResolvedDeniedEndpoint,
} from './egress-policy';

/** Name → addresses, as `dns.lookup(name, { all: true })` answers (the system resolver, /etc/hosts included). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface EgressGuardOptions {
  /** Default: the system resolver. Tests give one that answers what they need. */
  resolver?: Resolver;
  /** This machine's own addresses. Default: every interface's (`os.networkInterfaces()`). */
  localAddresses?: () => Iterable<string>;
  /** How long what pacslink's own endpoints resolve to is kept. Default 30 s. */
  refreshMs?: number;
}

const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true });

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((entries) =>
    (entries ?? []).map((entry) => entry.address),
  );
}

/** The host without the brackets of an IPv6 literal: what is resolved. */
function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** The host as names compare: no brackets, lower case, no trailing dot. */
function canonicalHost(host: string): string {
  return bareHost(host).toLowerCase().replace(/\.$/, '');
}

interface OwnEndpoints {
  denied: ResolvedDeniedEndpoint[];
  isLocal: (address: IpAddress) => boolean;
}

/**
 * The egress policy at connect time: resolves a PACS's host once, checks every address it
 * resolved to, and hands back only the allowed ones for the socket to connect to (see
 * `pinnedLookup`), so that what was checked is what is connected to: a name that resolves
 * differently a moment later (DNS rebinding) gets no second lookup. Refuses before any socket
 * exists.
 */
export class EgressGuard {
  private readonly resolver: Resolver;
  private readonly localAddresses: () => Iterable<string>;
  private readonly refreshMs: number;
  private own: { until: number; value: Promise<OwnEndpoints> } | undefined;

  constructor(
    readonly policy: EgressPolicy,
    options: EgressGuardOptions = {},
  ) {
    this.resolver = options.resolver ?? systemResolver;
    this.localAddresses = options.localAddresses ?? interfaceAddresses;
    this.refreshMs = options.refreshMs ?? 30_000;
  }

  /**
   * The addresses of `host` a connection to `port` may use, in the resolver's order; never empty.
   * Rejects with EgressRefusedError (naming the first refused address) when none may, or with the
   * resolver's own error (ENOTFOUND, EAI_AGAIN) when the name does not resolve.
   */
  async resolve(host: string, port: number): Promise<LookupAddress[]> {
    const bare = bareHost(host);
    const family = isIP(bare);
    // Resolved as given (a trailing dot means "no search domain"), compared as canonical.
    const found = family === 0 ? await this.resolver(bare) : [{ address: bare, family }];
    const hostname = canonicalHost(host);
    const own = await this.ownEndpoints();
    const context = { hostname, denied: own.denied, isLocal: own.isLocal };
    let firstRefused: EgressRefusedError | undefined;
    const allowed: LookupAddress[] = [];
    for (const candidate of found) {
      const address = parseAddress(candidate.address);
      const refusal = address === undefined ? 'not-allowed' : this.policy.refusal(address, port, context);
      if (refusal === undefined) allowed.push(candidate);
      else firstRefused ??= new EgressRefusedError({ host, port, address: candidate.address }, refusal);
    }
    if (allowed.length > 0) return allowed;
    throw firstRefused ?? new EgressRefusedError({ host, port, address: 'no address' }, 'not-allowed');
  }

  /** The denied endpoints resolved, and this machine's addresses; refreshed every `refreshMs`. */
  private ownEndpoints(): Promise<OwnEndpoints> {
    const now = Date.now();
    if (this.own === undefined || this.own.until <= now) {
      this.own = { until: now + this.refreshMs, value: this.resolveOwnEndpoints() };
    }
    return this.own.value;
  }

  private async resolveOwnEndpoints(): Promise<OwnEndpoints> {
    const local = new Set<string>();
    for (const text of this.localAddresses()) {
      const address = parseAddress(text);
      if (address !== undefined) local.add(normalizedAddress(address));
    }
    const isLocal = (address: IpAddress): boolean =>
      isLoopbackOrUnspecified(address) || local.has(normalizedAddress(address));
    const denied = await Promise.all(
      this.policy.deny.map(async (endpoint): Promise<ResolvedDeniedEndpoint> => {
        const host = canonicalHost(endpoint.host);
        const bare = bareHost(endpoint.host);
        const family = isIP(bare);
        // A name that does not resolve now still matches by name; its addresses come at the next refresh.
        const found = family === 0 ? await this.resolver(bare).catch(() => []) : [{ address: bare, family }];
        const addresses = found.map(({ address }) => parseAddress(address)).filter((a) => a !== undefined);
        return {
          ...endpoint,
          host,
          addresses: new Set(addresses.map(normalizedAddress)),
          local: addresses.some(isLocal),
        };
      }),
    );
    return { denied, isLocal };
  }
}

/**
 * A `lookup` for net.connect / tls.connect that answers only `addresses` (already checked), so the
 * socket connects to nothing else and Node's happy eyeballs still tries each in turn.
 */
export function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (hostname, options, callback) => {
    const wanted =
      options.family === 4 || options.family === 'IPv4'
        ? 4
        : options.family === 6 || options.family === 'IPv6'
          ? 6
          : 0;
    const usable = wanted === 0 ? addresses : addresses.filter((entry) => entry.family === wanted);
    const first = usable[0];
    if (first === undefined) {
      const error: NodeJS.ErrnoException = new Error(`no IPv${wanted} address allowed for ${hostname}`);
      error.code = 'ENOTFOUND';
      callback(error, '', 0);
    } else if (options.all === true) callback(null, [...usable]);
    else callback(null, first.address, first.family);
  };
}
