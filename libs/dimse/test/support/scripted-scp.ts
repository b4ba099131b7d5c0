import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A tiny DICOM Upper Layer peer that answers exactly as a test scripts it, written from PS3.8
 * directly (no DICOM library), for the behaviours no packaged SCP shows on demand: 0xFF01
 * pendings, a peer that never closes after A-RELEASE-RP, a C-ECHO failure status, silence after
 * the association, A-ABORT, C-CANCEL. It accepts each presentation context with the FIRST proposed
 * transfer syntax (as Odil does), so identifiers travel in Implicit VR Little Endian.
 */

export interface ProposedContext {
  id: number;
  abstractSyntaxUid: string;
  transferSyntaxUids: string[];
}

export interface DimseCommand {
  commandField: number;
  messageId: number;
  affectedSopClassUid: string;
  presentationContextId: number;
  /** C-CANCEL, and responses (a C-GET's C-STORE-RSP): the message it answers */
  messageIdBeingRespondedTo?: number;
  /** responses: (0000,0900) */
  status?: number;
}

/** C-GET / C-MOVE sub-operation counts, (0000,1020)-(0000,1023). */
export interface Counts {
  remaining?: number;
  completed: number;
  failed: number;
  warning: number;
}

export interface Conversation {
  /**
   * sends a DIMSE response to `command`; `identifier` in Implicit VR Little Endian; `errorComment`
   * as (0000,0902), however long; `affectedSopInstanceUid` as (0000,1000)
   */
  respond(
    command: DimseCommand,
    status: number,
    identifier?: Buffer,
    errorComment?: string,
    affectedSopInstanceUid?: string,
  ): void;
  /**
   * sends the response command set two bytes at a time, each piece in a P-DATA-TF PDU of its own,
   * one every `gapMs`: a peer that trickles its answer without ever being silent for long
   */
  trickleResponse(command: DimseCommand, status: number, gapMs: number): void;
  /**
   * sends a response whose identifier is cut into PDVs of `pieceBytes`, each in a P-DATA-TF PDU of
   * its own, the command's PDU and the first data PDU written together (as one TCP segment may)
   */
  respondInPieces(command: DimseCommand, status: number, identifier: Buffer, pieceBytes: number): void;
  /** a C-GET or C-MOVE response with its sub-operation counts */
  respondWithCounts(command: DimseCommand, status: number, counts: Counts): void;
  /**
   * a C-STORE-RQ sub-operation on the accepted context of `sopClassUid`, and `dataBytes` of data
   * set in PDUs of 16 KB, written at once (the kernel and the socket buffer what the reader does
   * not take); the last fragment marked last only when `complete`. Returns how many bytes of it the
   * socket had to keep waiting in memory (not taken by the kernel) right after writing.
   */
  sendStore(
    sopClassUid: string,
    sopInstanceUid: string,
    messageId: number,
    dataBytes: number,
    complete?: boolean,
  ): number;
  /**
   * a C-STORE-RQ sub-operation on the accepted context of `sopClassUid` whose data set never ends:
   * a 16 KB fragment, never the last, every `gapMs` until the connection closes
   */
  sendEndlessStore(sopClassUid: string, sopInstanceUid: string, messageId: number, gapMs: number): void;
  abort(source: number, reason: number): void;
  close(): void;
  readonly socket: Socket;
  /** the presentation contexts the A-ASSOCIATE-RQ proposed */
  readonly contexts: ProposedContext[];
}

export interface ScriptedScpScript {
  /**
   * what to answer to an A-ASSOCIATE-RQ; default accept. `reject`: an A-ASSOCIATE-RJ (PS3.8 9.3.4:
   * result 1 permanent, 2 transient; source; reason), then the connection is closed.
   */
  associate?:
    | 'accept'
    | 'close'
    | 'silent'
    | { abort: [source: number, reason: number] }
    | { reject: [result: number, source: number, reason: number] };
  /** result per presentation context (PS3.8 Table 9-18); default 0 (accept) */
  contextResult?: (context: ProposedContext) => number;
  /** the transfer syntax an accepted context is answered with; default the first proposed */
  contextTransferSyntax?: (context: ProposedContext) => string;
  onCommand?(command: DimseCommand, conversation: Conversation): void;
  /** default true; false keeps the connection open after A-RELEASE-RP (a peer like PixelMed's) */
  closeAfterRelease?: boolean;
  /**
   * default true; false never answers A-RELEASE-RQ; 'collide' answers it with an A-RELEASE-RQ of
   * its own (a release collision, PS3.8 9.2.3), then with A-RELEASE-RP once the requestor's RP came
   */
  answerRelease?: boolean | 'collide';
}

/** What the peer saw, for assertions. */
export interface ScpLog {
  pdus: number[];
  commands: DimseCommand[];
  abortsReceived: number;
  connections: number;
  /** Date.now() of each connection accepted, in order */
  connectedAt: number[];
}

function pdu(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function item(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt8(type, 0);
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function uid(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** PS3.5 7.1.2 Implicit VR Little Endian element (value padded to even length with `pad`). */
export function implicitElement(group: number, element: number, value: Buffer, pad = 0x20): Buffer {
  const padded = value.length % 2 === 0 ? value : Buffer.concat([value, Buffer.from([pad])]);
  const header = Buffer.alloc(8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(element, 2);
  header.writeUInt32LE(padded.length, 4);
  return Buffer.concat([header, padded]);
}

function us(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16LE(value, 0);
  return buffer;
}

function parseAssociateRq(body: Buffer): {
  called: string;
  calling: string;
  contexts: ProposedContext[];
  roleItems: Buffer[];
} {
  const called = body.toString('latin1', 4, 20);
  const calling = body.toString('latin1', 20, 36);
  const contexts: ProposedContext[] = [];
  const roleItems: Buffer[] = [];
  let offset = 68;
  while (offset + 4 <= body.length) {
    const type = body.readUInt8(offset);
    const length = body.readUInt16BE(offset + 2);
    const content = body.subarray(offset + 4, offset + 4 + length);
    if (type === 0x20) {
      const context: ProposedContext = {
        id: content.readUInt8(0),
        abstractSyntaxUid: '',
        transferSyntaxUids: [],
      };
      let sub = 4;
      while (sub + 4 <= content.length) {
        const subType = content.readUInt8(sub);
        const subLength = content.readUInt16BE(sub + 2);
        const value = content.toString('latin1', sub + 4, sub + 4 + subLength).replace(/\0+$/, '');
        if (subType === 0x30) context.abstractSyntaxUid = value;
        if (subType === 0x40) context.transferSyntaxUids.push(value);
        sub += 4 + subLength;
      }
      contexts.push(context);
    }
    if (type === 0x50) {
      for (let sub = 0; sub + 4 <= content.length; sub += 4 + content.readUInt16BE(sub + 2)) {
        if (content.readUInt8(sub) === 0x54)
          roleItems.push(content.subarray(sub, sub + 4 + content.readUInt16BE(sub + 2)));
      }
    }
    offset += 4 + length;
  }
  return { called, calling, contexts, roleItems };
}

/** The proposed role selection items are echoed: every role asked for is granted (PS3.7 D.3.3.4). */
function associateAc(
  rq: Buffer,
  contexts: ProposedContext[],
  resultOf: (context: ProposedContext) => number,
  roleItems: Buffer[],
  syntaxOf: (context: ProposedContext) => string,
): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(1, 0);
  rq.copy(fixed, 4, 4, 36); // called and calling AE titles, echoed
  const items = [item(0x10, uid('1.2.840.10008.3.1.1.1'))];
  for (const context of contexts) {
    const result = resultOf(context);
    const head = Buffer.from([context.id, 0, result, 0]);
    items.push(item(0x21, Buffer.concat([head, item(0x40, uid(syntaxOf(context)))])));
  }
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(16384, 0);
  items.push(
    item(
      0x50,
      Buffer.concat([item(0x51, maxLength), item(0x52, uid('1.2.826.0.1.3680043.10.854.99')), ...roleItems]),
    ),
  );
  return pdu(0x02, Buffer.concat([fixed, ...items]));
}

/** PS3.7 E.1: the command set is always Implicit VR Little Endian; reads the US/UI fields needed here. */
function parseCommand(bytes: Buffer, presentationContextId: number): DimseCommand {
  const command: DimseCommand = {
    commandField: 0,
    messageId: 0,
    affectedSopClassUid: '',
    presentationContextId,
  };
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    const element = bytes.readUInt16LE(offset + 2);
    const length = bytes.readUInt32LE(offset + 4);
    const value = bytes.subarray(offset + 8, offset + 8 + length);
    if (element === 0x0002) command.affectedSopClassUid = value.toString('latin1').replace(/\0+$/, '');
    if (element === 0x0100) command.commandField = value.readUInt16LE(0);
    if (element === 0x0110) command.messageId = value.readUInt16LE(0);
    if (element === 0x0120) command.messageIdBeingRespondedTo = value.readUInt16LE(0);
    if (element === 0x0900) command.status = value.readUInt16LE(0);
    offset += 8 + length;
  }
  return command;
}

function pdataTf(presentationContextId: number, isCommand: boolean, data: Buffer, last = true): Buffer {
  const pdv = Buffer.alloc(6);
  pdv.writeUInt32BE(data.length + 2, 0);
  pdv.writeUInt8(presentationContextId, 4);
  pdv.writeUInt8((isCommand ? 0x01 : 0x00) | (last ? 0x02 : 0x00), 5);
  return pdu(0x04, Buffer.concat([pdv, data]));
}

function commandSet(elements: Buffer[]): Buffer {
  const body = Buffer.concat(elements);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length, 0);
  return Buffer.concat([implicitElement(0x0000, 0x0000, length), body]);
}

function responseCommand(
  command: DimseCommand,
  status: number,
  hasDataset: boolean,
  errorComment?: string,
  counts?: Counts,
  affectedSopInstanceUid?: string,
): Buffer {
  const countElements =
    counts === undefined
      ? []
      : (
          [
            [0x1020, counts.remaining],
            [0x1021, counts.completed],
            [0x1022, counts.failed],
            [0x1023, counts.warning],
          ] as const
        )
          .filter(([, value]) => value !== undefined)
          .map(([element, value]) => implicitElement(0x0000, element, us(value ?? 0)));
  return commandSet([
    implicitElement(0x0000, 0x0002, uid(command.affectedSopClassUid), 0x00),
    implicitElement(0x0000, 0x0100, us(command.commandField | 0x8000)),
    implicitElement(0x0000, 0x0120, us(command.messageId)),
    implicitElement(0x0000, 0x0800, us(hasDataset ? 0x0000 : 0x0101)),
    implicitElement(0x0000, 0x0900, us(status)),
    ...(errorComment === undefined
      ? []
      : [implicitElement(0x0000, 0x0902, Buffer.from(errorComment, 'latin1'))]),
    ...(affectedSopInstanceUid === undefined
      ? []
      : [implicitElement(0x0000, 0x1000, uid(affectedSopInstanceUid), 0x00)]),
    ...countElements,
  ]);
}

/** PS3.7 9.3.1.1: a C-STORE-RQ command set (a C-GET's sub-operation) */
function storeRequest(sopClassUid: string, sopInstanceUid: string, messageId: number): Buffer {
  return commandSet([
    implicitElement(0x0000, 0x0002, uid(sopClassUid), 0x00),
    implicitElement(0x0000, 0x0100, us(0x0001)),
    implicitElement(0x0000, 0x0110, us(messageId)),
    implicitElement(0x0000, 0x0700, us(0)),
    implicitElement(0x0000, 0x0800, us(0x0000)),
    implicitElement(0x0000, 0x1000, uid(sopInstanceUid), 0x00),
  ]);
}

const STORE_PDV_BYTES = 16 * 1024 - 6;

export interface ScriptedScp {
  port: number;
  aeTitle: string;
  log: ScpLog;
  close(): Promise<void>;
}

export async function startScriptedScp(
  script: ScriptedScpScript,
  aeTitle = 'SCRIPTED',
): Promise<ScriptedScp> {
  const log: ScpLog = { pdus: [], commands: [], abortsReceived: 0, connections: 0, connectedAt: [] };
  const sockets = new Set<Socket>();

  // allowHalfOpen: a client's FIN does not close our side, so "never closes" can be scripted.
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    log.connections++;
    log.connectedAt.push(Date.now());
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('end', () => {
      if (script.closeAfterRelease !== false) socket.end();
    });
    let buffer = Buffer.alloc(0);
    let commandBytes: Buffer[] = [];
    const proposed: ProposedContext[] = [];
    const conversation: Conversation = {
      socket,
      contexts: proposed,
      respond(command, status, identifier, errorComment, affectedSopInstanceUid) {
        socket.write(
          pdataTf(
            command.presentationContextId,
            true,
            responseCommand(
              command,
              status,
              identifier !== undefined,
              errorComment,
              undefined,
              affectedSopInstanceUid,
            ),
          ),
        );
        if (identifier !== undefined) socket.write(pdataTf(command.presentationContextId, false, identifier));
      },
      trickleResponse(command, status, gapMs) {
        const bytes = responseCommand(command, status, false);
        let offset = 0;
        const timer = setInterval(() => {
          if (socket.destroyed || offset >= bytes.length) {
            clearInterval(timer);
            return;
          }
          const piece = bytes.subarray(offset, offset + 2);
          offset += piece.length;
          socket.write(pdataTf(command.presentationContextId, true, piece, offset >= bytes.length));
        }, gapMs);
        socket.once('close', () => clearInterval(timer));
      },
      respondInPieces(command, status, identifier, pieceBytes) {
        const pdus = [pdataTf(command.presentationContextId, true, responseCommand(command, status, true))];
        for (let offset = 0; offset < identifier.length; offset += pieceBytes) {
          const piece = identifier.subarray(offset, offset + pieceBytes);
          pdus.push(
            pdataTf(command.presentationContextId, false, piece, offset + pieceBytes >= identifier.length),
          );
        }
        socket.write(Buffer.concat(pdus));
      },
      respondWithCounts(command, status, counts) {
        socket.write(
          pdataTf(
            command.presentationContextId,
            true,
            responseCommand(command, status, false, undefined, counts),
          ),
        );
      },
      sendStore(sopClassUid, sopInstanceUid, messageId, dataBytes, complete = true) {
        const context = proposed.find((candidate) => candidate.abstractSyntaxUid === sopClassUid);
        if (context === undefined) throw new Error(`no context proposed for ${sopClassUid}`);
        socket.write(pdataTf(context.id, true, storeRequest(sopClassUid, sopInstanceUid, messageId)));
        const piece = Buffer.alloc(STORE_PDV_BYTES, 0x41);
        for (let sent = 0; sent < dataBytes; sent += STORE_PDV_BYTES) {
          const length = Math.min(STORE_PDV_BYTES, dataBytes - sent);
          socket.write(
            pdataTf(context.id, false, piece.subarray(0, length), complete && sent + length >= dataBytes),
          );
        }
        return socket.writableLength;
      },
      sendEndlessStore(sopClassUid, sopInstanceUid, messageId, gapMs) {
        const context = proposed.find((candidate) => candidate.abstractSyntaxUid === sopClassUid);
        if (context === undefined) throw new Error(`no context proposed for ${sopClassUid}`);
        socket.write(pdataTf(context.id, true, storeRequest(sopClassUid, sopInstanceUid, messageId)));
        const fragment = pdataTf(context.id, false, Buffer.alloc(STORE_PDV_BYTES, 0x41), false);
        const timer = setInterval(() => {
          if (socket.destroyed) clearInterval(timer);
          else socket.write(fragment);
        }, gapMs);
        socket.once('close', () => clearInterval(timer));
      },
      abort(source, reason) {
        socket.write(pdu(0x07, Buffer.from([0, 0, source, reason])));
      },
      close() {
        socket.destroy();
      },
    };

    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 6 && buffer.length >= 6 + buffer.readUInt32BE(2)) {
        const type = buffer.readUInt8(0);
        const body = buffer.subarray(6, 6 + buffer.readUInt32BE(2));
        buffer = buffer.subarray(6 + body.length);
        log.pdus.push(type);
        switch (type) {
          case 0x01: {
            const associate = script.associate ?? 'accept';
            if (associate === 'close') socket.destroy();
            else if (associate === 'silent') break;
            else if (typeof associate === 'object' && 'reject' in associate) {
              socket.end(pdu(0x03, Buffer.from([0, ...associate.reject])));
            } else if (typeof associate === 'object') conversation.abort(...associate.abort);
            else {
              const { contexts, roleItems } = parseAssociateRq(body);
              proposed.push(...contexts);
              socket.write(
                associateAc(
                  body,
                  contexts,
                  script.contextResult ?? (() => 0),
                  roleItems,
                  script.contextTransferSyntax ??
                    ((context) => context.transferSyntaxUids[0] ?? '1.2.840.10008.1.2'),
                ),
              );
            }
            break;
          }
          case 0x04: {
            let offset = 0;
            while (offset + 6 <= body.length) {
              const length = body.readUInt32BE(offset);
              const contextId = body.readUInt8(offset + 4);
              const control = body.readUInt8(offset + 5);
              const data = body.subarray(offset + 6, offset + 4 + length);
              offset += 4 + length;
              if ((control & 0x01) === 0) continue; // data sets: the scripts here do not read them
              commandBytes.push(data);
              if ((control & 0x02) !== 0) {
                const command = parseCommand(Buffer.concat(commandBytes), contextId);
                commandBytes = [];
                log.commands.push(command);
                script.onCommand?.(command, conversation);
              }
            }
            break;
          }
          case 0x05:
            if (script.answerRelease === false) break;
            if (script.answerRelease === 'collide') {
              socket.write(pdu(0x05, Buffer.alloc(4)));
              break;
            }
            socket.write(pdu(0x06, Buffer.alloc(4)));
            if (script.closeAfterRelease !== false) socket.end();
            break;
          case 0x06:
            if (script.answerRelease !== 'collide') break;
            socket.write(pdu(0x06, Buffer.alloc(4)));
            socket.end();
            break;
          case 0x07:
            log.abortsReceived++;
            socket.destroy();
            break;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    aeTitle,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A C-FIND identifier in Implicit VR Little Endian, written by hand. */
export function implicitIdentifier(
  elements: ReadonlyArray<[group: number, element: number, value: Buffer]>,
): Buffer {
  return Buffer.concat(
    elements.map(([group, element, value]) =>
      implicitElement(group, element, value, group === 0x0020 && element === 0x000d ? 0x00 : 0x20),
    ),
  );
}
