/**
 * The only file in the repository that imports dcmjs-dimse (0.3.3). Every workaround for a trap of
 * that library lives here, named after the trap in ../shared/notes/dicom-peers.md. Anything that
 * reaches into its internals checks the shape first and fails loudly if an upgrade changed it.
 */
import { Socket } from 'node:net';
import { Client, Dataset, constants, log, requests, type association, type responses } from 'dcmjs-dimse';
import type {
  AssociationParams,
  DimsePriority,
  DimseRequestSpec,
  NegotiatedContext,
  Transport,
  TransportEvents,
  TransportHandle,
} from './transport';

// dcmjs-dimse logs through loglevel to the console (errors such as "Could not find an accepted
// presentation context … Skipping" by default). This library reports every such case itself, as
// a DimseError or through its logger, and no library may write to the console.
log.setLevel('silent');

/* ----------------------------------------------------------------------------------------------
 * Trap 5 (dcmjs decodes text inside sequence items as Latin-1) and trap 2 (every data set is
 * parsed into dcmjs JSON): a response data set read with the KEEP_RAW read option keeps its bytes
 * and skips dcmjs's parser. This library parses and decodes the identifier itself
 * (dicom/dataset-parser.ts, dicom/dicom-json.ts). The patch is inert for every other Dataset: the
 * command sets dcmjs-dimse parses for itself carry no read options.
 * -------------------------------------------------------------------------------------------- */
const KEEP_RAW = Symbol('pacslink.dimse.keepRawDataset');

interface RawDataset {
  bytes: Buffer;
  transferSyntaxUid: string;
}

const rawDatasets = new WeakMap<object, RawDataset>();

type FromElementsBuffer = (
  this: object,
  buffer: Buffer,
  transferSyntaxUid: string,
  readOptions: Record<PropertyKey, unknown> | undefined,
) => Record<string, unknown>;

const datasetPrototype = Dataset.prototype as unknown as { _fromElementsBuffer?: FromElementsBuffer };
const parseElementsBuffer = datasetPrototype._fromElementsBuffer;
if (typeof parseElementsBuffer !== 'function') {
  throw new Error(
    'dcmjs-dimse changed: Dataset.prototype._fromElementsBuffer is gone (see dcmjs-dimse.transport.ts)',
  );
}
datasetPrototype._fromElementsBuffer = function (this: object, buffer, transferSyntaxUid, readOptions) {
  if (readOptions?.[KEEP_RAW] !== true)
    return parseElementsBuffer.call(this, buffer, transferSyntaxUid, readOptions);
  rawDatasets.set(this, { bytes: buffer, transferSyntaxUid });
  return {};
};

/** The read options that make response data sets keep their bytes (see KEEP_RAW). */
export const KEEP_RAW_READ_OPTIONS: Readonly<Record<PropertyKey, unknown>> = Object.freeze({
  [KEEP_RAW]: true,
});

/** The bytes of a data set read with KEEP_RAW_READ_OPTIONS. */
export function rawDatasetOf(dataset: object | undefined): RawDataset | undefined {
  return dataset === undefined ? undefined : rawDatasets.get(dataset);
}

/* ----------------------------------------------------------------------------------------------
 * Trap 3 / 12: dcmjs-dimse 0.3.3 ends a request on any status other than 0xFF00 (its
 * Network._performDimse raises "done" right after "response"), so 0xFF01 (pending, optional keys
 * not supported) releases the association while matches are still coming. This request ignores
 * the "done" that follows a 0xFF01 response.
 * -------------------------------------------------------------------------------------------- */
export class PendingAwareFindRequest extends requests.CFindRequest {
  private lastStatus: number | undefined;

  override raiseResponseEvent(response: responses.Response): void {
    this.lastStatus = response.getStatus();
    super.raiseResponseEvent(response);
  }

  override raiseDoneEvent(): void {
    if (this.lastStatus === 0xff01) return;
    super.raiseDoneEvent();
  }
}

/**
 * A C-FIND identifier encoded by this library (trap 6: dcmjs writes text as UTF-8 whatever
 * (0008,0005) says). dcmjs-dimse asks for the bytes when it sends; the transfer syntax is set to the
 * accepted one before that, so it never transcodes.
 */
export class EncodedIdentifier extends Dataset {
  constructor(private readonly encode: (transferSyntaxUid: string) => Buffer) {
    super({}, constants.TransferSyntax.ImplicitVRLittleEndian);
  }

  override getDenaturalizedDataset(): Buffer {
    return this.encode(this.getTransferSyntaxUid());
  }

  /** dcmjs-dimse may log a request with its data set: never the identifier's values. */
  override toString(): string {
    return 'Dataset: C-FIND identifier (values not logged)';
  }
}

/* ----------------------------------------------------------------------------------------------
 * Client internals. Client.send() creates the socket and its Network synchronously; neither is
 * exposed. Reaching them is the only way to set TCP_NODELAY (trap 1), close the socket after
 * A-RELEASE-RP (trap 11), see the peer's A-ABORT (Client does not forward the Network's "abort"
 * event) and learn the socket error's code (Client only passes on a message).
 * -------------------------------------------------------------------------------------------- */
interface NetworkInternals {
  socket?: unknown;
  on(event: 'abort', listener: (abort: { source: number; reason: number }) => void): unknown;
}

function networkOf(client: Client): { network: NetworkInternals; socket: Socket } {
  const network = (client as unknown as { network?: NetworkInternals }).network;
  if (network === undefined || typeof network.on !== 'function' || !(network.socket instanceof Socket)) {
    throw new Error('dcmjs-dimse changed: Client.network.socket not found (see dcmjs-dimse.transport.ts)');
  }
  return { network, socket: network.socket };
}

const PRIORITY: Readonly<Record<DimsePriority, number>> = {
  LOW: constants.Priority.Low,
  MEDIUM: constants.Priority.Medium,
  HIGH: constants.Priority.High,
};

function contextsOf(negotiated: association.Association): NegotiatedContext[] {
  return negotiated.getPresentationContexts().map(({ context }) => ({
    abstractSyntaxUid: context.getAbstractSyntaxUid(),
    result: context.getResult(),
    transferSyntaxUid: context.getAcceptedTransferSyntaxUid(),
  }));
}

/**
 * A listener that never throws: AsyncEventEmitter2 (under dcmjs-dimse) re-throws a listener's
 * exception from an internal promise, which ends the process.
 */
function guarded<T>(events: TransportEvents, listener: (arg: T) => void): (arg: T) => void {
  return (arg: T) => {
    try {
      listener(arg);
    } catch (error) {
      try {
        events.stackError(error instanceof Error ? error : new Error(String(error)));
      } catch {
        // nothing left to tell
      }
    }
  };
}

/** Opens one association with dcmjs-dimse and sends one request on it. */
export const dcmjsDimseTransport: Transport = (
  params: AssociationParams,
  spec: DimseRequestSpec,
  events: TransportEvents,
): TransportHandle => {
  const client = new Client();
  let identifier: EncodedIdentifier | undefined;
  let request: requests.CEchoRequest | PendingAwareFindRequest;
  if (spec.command === 'C-FIND') {
    const find = new PendingAwareFindRequest(PRIORITY[spec.priority]);
    find.setAffectedSopClassUid(spec.abstractSyntaxUid);
    identifier = new EncodedIdentifier(spec.encodeIdentifier);
    find.setDataset(identifier);
    request = find;
  } else {
    request = new requests.CEchoRequest();
  }
  request.on(
    'response',
    guarded(events, (response: responses.Response) => {
      const raw = response.hasDataset() ? rawDatasetOf(response.getDataset()) : undefined;
      const errorComment = response.getErrorComment();
      events.response({
        status: response.getStatus(),
        errorComment:
          typeof errorComment === 'string' && errorComment.trim() !== '' ? errorComment.trim() : undefined,
        identifier: raw,
      });
    }),
  );
  client.addRequest(request);

  client.on(
    'connected',
    guarded(events, () => {
      // dcmjs-dimse arms socket.setTimeout(connectTimeout), an idle timeout for the whole life of
      // the connection: a peer silent for connectTimeout during a long C-FIND would be cut off.
      // The runner's own phase timers bound every wait instead.
      socket.setTimeout(0);
      events.connected();
    }),
  );
  client.on(
    'associationAccepted',
    guarded(events, (negotiated: association.Association) => {
      // Runs before dcmjs-dimse sends the request: encode the identifier in the accepted syntax.
      if (identifier !== undefined) {
        const context = negotiated.getAcceptedPresentationContextFromRequest(request);
        const transferSyntaxUid = context?.getAcceptedTransferSyntaxUid();
        if (transferSyntaxUid !== undefined) identifier.setTransferSyntaxUid(transferSyntaxUid);
      }
      events.accepted(contextsOf(negotiated));
    }),
  );
  client.on(
    'associationRejected',
    guarded(events, (reject: { result: number; source: number; reason: number }) => events.rejected(reject)),
  );
  client.on(
    'associationReleased',
    guarded(events, () => events.released()),
  );
  client.on(
    'networkError',
    guarded(events, (error: Error) => events.stackError(error)),
  );

  client.send(params.host, params.port, params.callingAeTitle, params.calledAeTitle, {
    connectTimeout: params.connectTimeoutMs,
    associationTimeout: params.associationTimeoutMs,
    pduTimeout: params.pduTimeoutMs,
    datasetReadOptions: KEEP_RAW_READ_OPTIONS,
  });

  const { network, socket } = networkOf(client);
  // Trap 1: Nagle's algorithm with the peer's delayed ACK costs 40-90 ms per DIMSE round trip.
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => events.data(chunk));
  socket.on('error', (error: NodeJS.ErrnoException) => events.socketError(error));
  socket.once('close', () => events.closed());
  network.on(
    'abort',
    guarded(events, (abort: { source: number; reason: number }) => events.aborted(abort)),
  );

  return {
    cancel: () => {
      if (request instanceof PendingAwareFindRequest) client.cancel(request);
    },
    abort: () => {
      try {
        client.abort();
      } catch {
        // no association left to abort
      }
      socket.destroySoon();
      // A peer that stops reading can keep the A-ABORT from ever being written.
      setTimeout(() => socket.destroy(), 1_000).unref();
    },
    close: () => socket.destroy(),
  };
};
