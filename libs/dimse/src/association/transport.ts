import type { AbortInfo, AssociateReject } from '../protocol/association-reject';

/**
 * The seam between the association logic (timeouts, error decisions) and the DICOM network stack
 * that moves the bytes. dcmjs-dimse sits behind it (dcmjs-dimse.transport.ts); unit tests put a
 * scripted fake there. C-STORE, C-GET and C-MOVE add request kinds (and, for C-GET, incoming
 * C-STORE sub-operations) to this interface.
 */

export interface AssociationParams {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
  /** the network stack's own bounds: backstops behind the runner's precise timers */
  connectTimeoutMs: number;
  associationTimeoutMs: number;
  pduTimeoutMs: number;
}

export type DimsePriority = 'LOW' | 'MEDIUM' | 'HIGH';

export type DimseRequestSpec =
  | { readonly command: 'C-ECHO' }
  | {
      readonly command: 'C-FIND';
      readonly abstractSyntaxUid: string;
      readonly priority: DimsePriority;
      /** the identifier in the transfer syntax the peer accepted */
      readonly encodeIdentifier: (transferSyntaxUid: string) => Buffer;
    };

/** One presentation context as the peer answered it in the A-ASSOCIATE-AC. */
export interface NegotiatedContext {
  abstractSyntaxUid: string;
  /** PS3.8 Table 9-18: 0 accepted, 1-4 rejected */
  result: number;
  transferSyntaxUid?: string;
}

export interface DimseResponseMessage {
  status: number;
  errorComment?: string;
  /** the response's data set (a C-FIND match), undecoded */
  identifier?: { bytes: Buffer; transferSyntaxUid: string };
}

/** What the network stack reports; every callback may come at most once except `response` and `data`. */
export interface TransportEvents {
  connected(): void;
  /** before any request is sent */
  accepted(contexts: readonly NegotiatedContext[]): void;
  rejected(reject: AssociateReject): void;
  aborted(abort: AbortInfo): void;
  response(response: DimseResponseMessage): void;
  /** A-RELEASE-RP received */
  released(): void;
  data(chunk: Buffer): void;
  socketError(error: NodeJS.ErrnoException): void;
  /** the stack failed to read or write a PDU, or hit its own timeout */
  stackError(error: Error): void;
  /** the TCP connection is gone */
  closed(): void;
}

export interface TransportHandle {
  /** C-CANCEL for the outstanding C-FIND */
  cancel(): void;
  /** sends A-ABORT, then closes the connection once it is written */
  abort(): void;
  /** closes the TCP connection now */
  close(): void;
}

export type Transport = (
  params: AssociationParams,
  request: DimseRequestSpec,
  events: TransportEvents,
) => TransportHandle;
