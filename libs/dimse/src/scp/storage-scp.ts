import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { DimseLogger } from '../dimse.options';
import type { AssociateReject } from '../protocol/association-reject';
import { SopClassUid } from '../protocol/uids';
import type { AcceptedPresentationContext } from '../upper-layer/pdu';
import { DICOM_APPLICATION_CONTEXT_NAME } from '../upper-layer/pdu';
import { AssociateRejects } from '../upper-layer/pdu-acceptor';
import type { ReceivedAssociateRequest } from '../upper-layer/pdu-acceptor';
import {
  UlAcceptor,
  type AssociateDecision,
  type AssociationEnd,
  type MessageHandling,
} from '../upper-layer/ul-acceptor';
import { DataSetRefusedError, DataSetStream } from './data-set-stream';
import {
  CommandSetError,
  decodeRequestCommand,
  encodeResponseCommand,
  type ReceivedCommand,
} from './scp-commands';
import { CommandField } from '../store/command-set';

/** A configured peer allowed to call us, as the caller's lookup names it. */
export interface ScpCaller {
  id: string;
  aeTitle: string;
}

export interface ScpAssociationInfo {
  /** ours, for logs and for matching what the store callback kept */
  id: string;
  callingAeTitle: string;
  caller: ScpCaller;
  remoteAddress: string;
}

export interface IncomingInstance {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /**
   * Present when the C-STORE is a sub-operation of a C-MOVE (PS3.7 9.3.1.1): the AE title that
   * asked the sender for the move, (0000,1030), and that C-MOVE-RQ's Message ID, (0000,1031).
   */
  moveOriginator?: { aeTitle?: string; messageId?: number };
}

/** The C-STORE-RSP to send: 0x0000, or a warning or failure status with a reason (PS3.4 B.2.3). */
export interface StoreResult {
  status: number;
  errorComment?: string;
}

export interface AssociationSummary {
  association: ScpAssociationInfo;
  end: AssociationEnd;
}

export interface StorageScpOptions {
  aeTitle: string;
  port: number;
  host?: string;
  /** associations at once, over all callers; more are rejected (transient, local limit exceeded) */
  maxAssociations: number;
  /** associations at once from one configured peer */
  maxAssociationsPerCaller: number;
  artimTimeoutMs: number;
  idleTimeoutMs: number;
  /** the largest P-DATA-TF PDU we accept: what one association may hold in memory */
  maxPduLength: number;
  /** the transfer syntaxes accepted for storage; Verification takes Implicit and Explicit VR LE */
  storageTransferSyntaxes: readonly string[];
  /** The configured peer a calling AE title belongs to; undefined: rejected. May throw (transient). */
  identifyCaller(callingAeTitle: string): Promise<ScpCaller | undefined>;
  /**
   * Stores one data set read from `dataSet` (ending at its last fragment, destroyed with an error
   * when the association ends inside it). Resolving early stops the reading; must not reject.
   */
  store(association: ScpAssociationInfo, instance: IncomingInstance, dataSet: Readable): Promise<StoreResult>;
  refused?(request: {
    callingAeTitle: string;
    calledAeTitle: string;
    remoteAddress: string;
    reason: string;
  }): void;
  /**
   * Awaited when the peer asks to release, before the A-RELEASE-RP is sent (after every C-STORE of
   * the association was answered). A rejection aborts the association (A-ABORT) instead of
   * releasing it; `associationEnded` then says 'aborted' with the rejection's message.
   */
  beforeRelease?(association: ScpAssociationInfo): Promise<void>;
  /** after every accepted association, whatever its end */
  associationEnded?(summary: AssociationSummary): void;
  logger?: DimseLogger;
}

/** PS3.6 Annex A: every Storage SOP Class of PS3.4 B.5 and most others live under this root. */
const STORAGE_SOP_CLASS_ROOT = '1.2.840.10008.5.1.4.1.1.';
const VERIFICATION_SYNTAXES: readonly string[] = ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'];
/** PS3.4 Table B.2-1 / C.4 general statuses */
const STATUS_PROCESSING_FAILURE = 0x0110;
const STATUS_SOP_CLASS_NOT_SUPPORTED = 0x0122;
/** PS3.4 Table B.2-1: Error, cannot understand */
const STATUS_CANNOT_UNDERSTAND = 0xc000;
/** What one association's data set may hold in memory on each side of its stream. */
const DATA_SET_BUFFER_BYTES = 256 * 1024;

/** PS3.8 Table 9-18 results. */
const CONTEXT_ACCEPTED = 0;
const ABSTRACT_SYNTAX_NOT_SUPPORTED = 3;
const TRANSFER_SYNTAXES_NOT_SUPPORTED = 4;

interface Active {
  acceptor: UlAcceptor;
  callerId?: string;
  /** the connection is gone (set by the acceptor's `ended`) */
  ended: boolean;
}

function moveOriginatorOf(command: ReceivedCommand): Pick<IncomingInstance, 'moveOriginator'> {
  const { moveOriginatorAeTitle: aeTitle, moveOriginatorMessageId: messageId } = command;
  if (aeTitle === undefined && messageId === undefined) return {};
  return {
    moveOriginator: {
      ...(aeTitle === undefined ? {} : { aeTitle }),
      ...(messageId === undefined ? {} : { messageId }),
    },
  };
}

/**
 * A Storage SCP (PS3.4 Annex B) and Verification SCP on the acceptor side of our upper layer:
 * associations whose called AE title is ours and whose calling AE title is a configured peer's;
 * each C-STORE data set streams into `store` as its fragments arrive.
 */
export class StorageScp {
  private readonly server: Server;
  private readonly active = new Set<Active>();
  private readonly perCaller = new Map<string, number>();

  constructor(private readonly options: StorageScpOptions) {
    this.server = createServer((socket) => this.connection(socket));
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.removeListener('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /** Stops accepting; associations in progress get `graceMs` to end, then are aborted. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const deadline = Date.now() + graceMs;
    while (this.active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const active of this.active) active.acceptor.abort('the Storage SCP is shutting down');
    await closed;
  }

  private connection(socket: Socket): void {
    const remoteAddress = socket.remoteAddress ?? 'unknown';
    const entry = { ended: false } as Active;
    let association: ScpAssociationInfo | undefined;
    const contexts = new Map<number, { abstractSyntaxUid: string; transferSyntaxUid: string }>();
    entry.acceptor = new UlAcceptor(
      socket,
      {
        maxPduLength: this.options.maxPduLength,
        artimTimeoutMs: this.options.artimTimeoutMs,
        idleTimeoutMs: this.options.idleTimeoutMs,
      },
      {
        associate: async (request) => {
          const { decision, caller } = await this.decide(request, remoteAddress, entry);
          if ('accept' in decision && caller !== undefined) {
            association = { id: randomUUID(), callingAeTitle: request.callingAeTitle, caller, remoteAddress };
            for (const context of decision.accept) {
              const proposed = request.contexts.find((candidate) => candidate.id === context.id);
              if (context.result === CONTEXT_ACCEPTED && proposed && context.transferSyntaxUid) {
                contexts.set(context.id, {
                  abstractSyntaxUid: proposed.abstractSyntaxUid,
                  transferSyntaxUid: context.transferSyntaxUid,
                });
              }
            }
            this.options.logger?.debug({
              msg: 'association accepted',
              associationId: association.id,
              callingAeTitle: request.callingAeTitle,
              remoteAddress,
              contexts: contexts.size,
            });
          }
          return decision;
        },
        message: (contextId, command) => {
          if (association === undefined) throw new CommandSetError('a message before the association');
          const context = contexts.get(contextId);
          if (context === undefined) {
            throw new CommandSetError(
              `a message on presentation context ${contextId}, which was not accepted`,
            );
          }
          return this.message(association, context, command);
        },
        beforeRelease: async () => {
          if (association !== undefined) await this.options.beforeRelease?.(association);
        },
        ended: (end) => {
          entry.ended = true;
          this.active.delete(entry);
          if (entry.callerId !== undefined) {
            const count = (this.perCaller.get(entry.callerId) ?? 1) - 1;
            if (count === 0) this.perCaller.delete(entry.callerId);
            else this.perCaller.set(entry.callerId, count);
          }
          if (association !== undefined) this.options.associationEnded?.({ association, end });
        },
      },
    );
    this.active.add(entry);
  }

  private async decide(
    request: ReceivedAssociateRequest,
    remoteAddress: string,
    entry: Active,
  ): Promise<{ decision: AssociateDecision; caller?: ScpCaller }> {
    const refuse = (reason: string, reject: AssociateReject): { decision: AssociateDecision } => {
      this.options.refused?.({
        callingAeTitle: request.callingAeTitle,
        calledAeTitle: request.calledAeTitle,
        remoteAddress,
        reason,
      });
      this.options.logger?.warn({
        msg: 'association rejected',
        callingAeTitle: request.callingAeTitle,
        calledAeTitle: request.calledAeTitle,
        remoteAddress,
        reason,
      });
      return { decision: { reject } };
    };
    if (request.applicationContextName !== DICOM_APPLICATION_CONTEXT_NAME) {
      return refuse(
        'application context name not supported',
        AssociateRejects.applicationContextNotSupported,
      );
    }
    if (request.calledAeTitle !== this.options.aeTitle) {
      return refuse(
        `called AE title "${request.calledAeTitle}" is not ours ("${this.options.aeTitle}")`,
        AssociateRejects.calledAeTitleNotRecognized,
      );
    }
    let caller: ScpCaller | undefined;
    try {
      caller = await this.options.identifyCaller(request.callingAeTitle);
    } catch (error) {
      return refuse(
        `the configured peers could not be learnt: ${(error as Error).message}`,
        AssociateRejects.temporaryCongestion,
      );
    }
    if (caller === undefined) {
      return refuse(
        'calling AE title is not the AE title of a configured DIMSE PACS',
        AssociateRejects.callingAeTitleNotRecognized,
      );
    }
    // The peer hung up while its AE title was looked up: `ended` has run already, so counting it
    // now would hold one of its associations forever. The decision goes nowhere.
    if (entry.ended) return { decision: { reject: AssociateRejects.localLimitExceeded } };
    const fromCaller = this.perCaller.get(caller.id) ?? 0;
    const associated = [...this.active].filter((active) => active.callerId !== undefined).length;
    if (associated >= this.options.maxAssociations) {
      return refuse(`${associated} associations at once is the limit`, AssociateRejects.localLimitExceeded);
    }
    if (fromCaller >= this.options.maxAssociationsPerCaller) {
      return refuse(
        `${fromCaller} associations at once from one PACS is the limit`,
        AssociateRejects.localLimitExceeded,
      );
    }
    entry.callerId = caller.id;
    this.perCaller.set(caller.id, fromCaller + 1);
    return {
      decision: { accept: request.contexts.map((context) => this.negotiateContext(context)) },
      caller,
    };
  }

  /** The first of the proposer's transfer syntaxes that we take (PS3.8 9.3.3.2: one per context). */
  private negotiateContext(
    context: ReceivedAssociateRequest['contexts'][number],
  ): AcceptedPresentationContext {
    const syntaxes =
      context.abstractSyntaxUid === SopClassUid.Verification
        ? VERIFICATION_SYNTAXES
        : context.abstractSyntaxUid.startsWith(STORAGE_SOP_CLASS_ROOT)
          ? this.options.storageTransferSyntaxes
          : undefined;
    if (syntaxes === undefined) return { id: context.id, result: ABSTRACT_SYNTAX_NOT_SUPPORTED };
    const chosen = context.transferSyntaxUids.find((uid) => syntaxes.includes(uid));
    if (chosen === undefined) return { id: context.id, result: TRANSFER_SYNTAXES_NOT_SUPPORTED };
    return { id: context.id, result: CONTEXT_ACCEPTED, transferSyntaxUid: chosen };
  }

  private message(
    association: ScpAssociationInfo,
    context: { abstractSyntaxUid: string; transferSyntaxUid: string },
    bytes: Buffer,
  ): MessageHandling {
    const command = decodeRequestCommand(bytes);
    const respond = (commandField: number, result: StoreResult): Buffer =>
      encodeResponseCommand({
        commandField,
        messageIdBeingRespondedTo: command.messageId,
        affectedSopClassUid: command.affectedSopClassUid ?? context.abstractSyntaxUid,
        ...(command.affectedSopInstanceUid === undefined
          ? {}
          : { affectedSopInstanceUid: command.affectedSopInstanceUid }),
        status: result.status,
        ...(result.errorComment === undefined ? {} : { errorComment: result.errorComment }),
      });
    switch (command.commandField) {
      case CommandField.CEchoRq:
        if (command.hasDataSet) throw new CommandSetError('a C-ECHO-RQ that announces a data set');
        return { response: Promise.resolve(respond(CommandField.CEchoRsp, { status: 0x0000 })) };
      case CommandField.CStoreRq: {
        if (!command.hasDataSet) throw new CommandSetError('a C-STORE-RQ without a data set');
        const dataSet = new DataSetStream(context.transferSyntaxUid, DATA_SET_BUFFER_BYTES);
        // Destroyed with an error when the association ends inside it, or failed when it is not a
        // data set; `store` sees that through its reading, and nobody else may turn it into an
        // uncaught 'error' event. A refused data set is answered as such, whatever `store` says.
        let refused: StoreResult | undefined;
        dataSet.on('error', (error) => {
          if (error instanceof DataSetRefusedError) {
            refused = { status: STATUS_CANNOT_UNDERSTAND, errorComment: error.message };
          }
        });
        const { affectedSopClassUid, affectedSopInstanceUid } = command;
        let result: Promise<StoreResult>;
        if (affectedSopClassUid === undefined || affectedSopInstanceUid === undefined) {
          result = Promise.resolve({
            status: STATUS_PROCESSING_FAILURE,
            errorComment: 'C-STORE-RQ without AffectedSOPClassUID or AffectedSOPInstanceUID',
          });
        } else if (affectedSopClassUid !== context.abstractSyntaxUid) {
          // PS3.4 B.2.3: 0x0122 refused, SOP class not supported (on this context).
          result = Promise.resolve({
            status: STATUS_SOP_CLASS_NOT_SUPPORTED,
            errorComment: `SOP class ${affectedSopClassUid} sent on a context for ${context.abstractSyntaxUid}`,
          });
        } else {
          result = this.options
            .store(
              association,
              {
                sopClassUid: affectedSopClassUid,
                sopInstanceUid: affectedSopInstanceUid,
                transferSyntaxUid: context.transferSyntaxUid,
                ...moveOriginatorOf(command),
              },
              dataSet,
            )
            .catch((error: unknown) => ({
              status: STATUS_PROCESSING_FAILURE,
              errorComment: error instanceof Error ? error.message : String(error),
            }))
            .then((stored) => refused ?? stored);
        }
        return { dataSet, response: result.then((stored) => respond(CommandField.CStoreRsp, stored)) };
      }
      default:
        throw new CommandSetError(
          `command 0x${command.commandField.toString(16).padStart(4, '0')} is not offered (Storage and Verification only)`,
        );
    }
  }
}
