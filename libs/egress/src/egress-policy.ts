import ipaddr from 'ipaddr.js';
import type { EgressRefusal } from './egress.errors';

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;
export type Cidr = readonly [IpAddress, number];

/** Which of pacslink's own endpoints a denied host:port is; each is named in the refusal. */
export type OwnEndpointKind = 'broker' | 'database' | 'service';

/** One of pacslink's own endpoints (broker, database, …) that is never a PACS. */
export interface DeniedEndpoint {
  /** A name or an address, as configured (brackets removed from IPv6). */
  host: string;
  port: number;
  kind: OwnEndpointKind;
}

/** A denied endpoint with what its host resolved to, and whether that is this machine. */
export interface ResolvedDeniedEndpoint extends DeniedEndpoint {
  /** Normalized addresses (`normalizedAddress`). */
  addresses: ReadonlySet<string>;
  /** It runs on this machine: its port is then denied at every address of this machine. */
  local: boolean;
}

/** What the policy needs to know about the moment of the check. */
export interface CheckContext {
  /** The name the connection was asked for (lower case, no trailing dot), or the address itself. */
  hostname: string;
  denied: readonly ResolvedDeniedEndpoint[];
  /** Whether the address is one of this machine's own (loopback, unspecified, an interface). */
  isLocal(address: IpAddress): boolean;
}

/**
 * Addresses no PACS has and that no allow list can open: link-local (RFC 3927, RFC 4291) where cloud
 * metadata services live, and the metadata addresses themselves (AWS 169.254.169.254 and
 * fd00:ec2::254, Alibaba 100.100.100.200, GCP and Azure share 169.254.169.254).
 */
const NEVER: readonly Cidr[] = [
  ipaddr.parseCIDR('169.254.0.0/16'),
  ipaddr.parseCIDR('fe80::/10'),
  ipaddr.parseCIDR('169.254.169.254/32'),
  ipaddr.parseCIDR('fd00:ec2::254/128'),
  ipaddr.parseCIDR('100.100.100.200/32'),
];

/**
 * IPv6 forms that carry an IPv4 address to an IPv4 host: IPv4-translated (RFC 6145) and the NAT64
 * well-known prefix 64:ff9b::/96 (RFC 6052). IPv4-mapped addresses (::ffff:a.b.c.d) are turned
 * into IPv4 before any rule by `parseAddress`.
 */
const EMBEDDING_IPV4: readonly Cidr[] = [
  ipaddr.parseCIDR('::ffff:0:0:0/96'),
  ipaddr.parseCIDR('64:ff9b::/96'),
];

function inRange(address: IpAddress, [network, bits]: Cidr): boolean {
  return address.kind() === network.kind() && address.match(network, bits);
}

/** The address, IPv4-mapped IPv6 turned into IPv4; undefined when it is not an IP address. */
export function parseAddress(text: string): IpAddress | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  return ipaddr.isValid(bare) ? ipaddr.process(bare) : undefined;
}

/** One spelling per address, for comparing: `::ffff:127.0.0.1`, `127.0.0.1` → `127.0.0.1`. */
export function normalizedAddress(address: IpAddress): string {
  return address.toNormalizedString();
}

/** The IPv4 address an IPv6 address carries to an IPv4 host, if it does. */
function embeddedIPv4(address: IpAddress): ipaddr.IPv4 | undefined {
  if (address.kind() !== 'ipv6' || !EMBEDDING_IPV4.some((range) => inRange(address, range))) return undefined;
  const bytes = address.toByteArray();
  return new ipaddr.IPv4(bytes.slice(12));
}

/** Loopback or unspecified: this machine whatever its interfaces. */
export function isLoopbackOrUnspecified(address: IpAddress): boolean {
  const range = address.range();
  return range === 'loopback' || range === 'unspecified';
}

/**
 * `a.b.c.d/n`, `x:y::/n` or a bare address (one host), comma-separated. Throws naming the entry.
 * An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) is taken as the IPv4 range it maps.
 */
export function parseCidrList(text: string): Cidr[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new Error('lists no range');
  return entries.map((entry) => {
    let cidr: Cidr;
    if (ipaddr.isValidCIDR(entry)) cidr = ipaddr.parseCIDR(entry);
    else if (ipaddr.isValid(entry)) {
      const address = ipaddr.parse(entry);
      cidr = [address, address.kind() === 'ipv4' ? 32 : 128];
    } else {
      throw new Error(`"${entry}" is not a CIDR range (e.g. 10.20.0.0/16, 2001:db8:20::/48) or an address`);
    }
    const [network, bits] = cidr;
    if (network.kind() === 'ipv6' && bits >= 96 && (network as ipaddr.IPv6).isIPv4MappedAddress()) {
      return [(network as ipaddr.IPv6).toIPv4Address(), bits - 96] as const;
    }
    return cidr;
  });
}

/** `any`: development without EGRESS_ALLOW_CIDRS; else the ranges a PACS may be in. */
export type EgressAllow = 'any' | readonly Cidr[];

/**
 * The egress rules, pure: which addresses a worker may connect to as a PACS. In this order:
 * link-local and metadata never; unspecified, multicast and broadcast never; pacslink's own
 * broker, database and listed services never (a port of one that runs on this machine at any of
 * this machine's addresses); then only what EGRESS_ALLOW_CIDRS allows.
 */
export class EgressPolicy {
  constructor(
    readonly allow: EgressAllow,
    readonly deny: readonly DeniedEndpoint[],
  ) {}

  /** Why `address`:`port` may not be connected to, or undefined when it may. */
  refusal(address: IpAddress, port: number, context: CheckContext): EgressRefusal | undefined {
    const forms = [address, embeddedIPv4(address)].filter((form) => form !== undefined);
    if (forms.some((form) => NEVER.some((range) => inRange(form, range)))) return 'link-local-or-metadata';
    if (forms.some((form) => ['unspecified', 'multicast', 'broadcast'].includes(form.range()))) {
      return 'not-unicast';
    }
    const own = context.denied.find(
      (endpoint) =>
        endpoint.port === port &&
        (endpoint.host === context.hostname ||
          forms.some(
            (form) =>
              endpoint.addresses.has(normalizedAddress(form)) || (endpoint.local && context.isLocal(form)),
          )),
    );
    if (own !== undefined) return own.kind === 'service' ? 'own-service' : `own-${own.kind}`;
    if (this.allow === 'any') return undefined;
    return this.allow.some((range) => inRange(address, range)) ? undefined : 'not-allowed';
  }
}
