/** The code a refused destination carries through every layer (DIMSE, DICOMweb, RPC answers, reports). */
export const EGRESS_REFUSED = 'EGRESS_REFUSED';

/** Why the policy refused an address; each has its own sentence (see `describeRefusal`). */
export type EgressRefusal =
  'not-allowed' | 'link-local-or-metadata' | 'not-unicast' | 'own-broker' | 'own-database' | 'own-service';

export interface EgressDestination {
  /** As configured: a name or an address. */
  host: string;
  port: number;
  /** The address it resolved to, the one a socket would have connected to. */
  address: string;
}

/** `host:port`, with an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const REASONS: Readonly<Record<EgressRefusal, string>> = {
  'not-allowed': 'is not an allowed PACS address (EGRESS_ALLOW_CIDRS)',
  'link-local-or-metadata':
    'is a link-local or cloud metadata address: link-local and metadata addresses are never allowed',
  'not-unicast': 'is not a unicast address (unspecified, multicast or broadcast): never allowed',
  'own-broker': "is pacslink's own broker (AMQP_URL): never allowed as a PACS",
  'own-database': "is pacslink's own database (DATABASE_URL): never allowed as a PACS",
  'own-service': "is one of pacslink's own services (EGRESS_DENY_ENDPOINTS): never allowed as a PACS",
};

export function describeRefusal(destination: EgressDestination, refusal: EgressRefusal): string {
  return `${hostPort(destination.host, destination.port)} (${destination.address}) ${REASONS[refusal]}`;
}

/**
 * A connection the egress policy refused before any socket was opened. Permanent: only a change
 * of the configuration or of EGRESS_ALLOW_CIDRS can make it succeed.
 */
export class EgressRefusedError extends Error {
  override readonly name = 'EgressRefusedError';
  readonly code = EGRESS_REFUSED;

  constructor(
    readonly destination: EgressDestination,
    readonly refusal: EgressRefusal,
  ) {
    super(describeRefusal(destination, refusal));
  }
}

/**
 * A refusal as a query error or a transfer failure says it: "Connection failed: <host>:<port>
 * (<address>) is not an allowed PACS address (EGRESS_ALLOW_CIDRS)". A connection test answers
 * `message: "Connection failed"` with the refusal as its `detail`.
 */
export function connectionFailed(refusal: string): string {
  return `Connection failed: ${refusal}`;
}

export function isEgressRefusedError(error: unknown): error is EgressRefusedError {
  return error instanceof EgressRefusedError;
}
