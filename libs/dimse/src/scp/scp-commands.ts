/**
 * The command sets a Storage SCP reads and writes (PS3.7 9.3.1, 9.3.5, E.1): Implicit VR Little
 * Endian, group 0000 only, led by (0000,0000) CommandGroupLength.
 */
import { aeTitleProblem, uidText } from '@pacslink/dicom';
import { NO_DATA_SET, commandSet, element, uidValue, usValue } from '../store/command-set';

/** ErrorComment is LO: at most 64 characters (PS3.5 6.2). */
const ERROR_COMMENT_MAX = 64;

export class CommandSetError extends Error {
  override readonly name = 'CommandSetError';
}

export interface ReceivedCommand {
  commandField: number;
  messageId: number;
  affectedSopClassUid?: string;
  affectedSopInstanceUid?: string;
  /** (0000,1030): on a C-STORE that is a C-MOVE sub-operation, the AE title that asked for the move */
  moveOriginatorAeTitle?: string;
  /** (0000,1031): and the Message ID of its C-MOVE-RQ */
  moveOriginatorMessageId?: number;
  hasDataSet: boolean;
}

function us(value: Buffer, what: string): number {
  if (value.length !== 2) throw new CommandSetError(`${what} is ${value.length} bytes, not 2`);
  return value.readUInt16LE(0);
}

export function decodeRequestCommand(bytes: Buffer): ReceivedCommand {
  let commandField: number | undefined;
  let messageId: number | undefined;
  let dataSetType: number | undefined;
  const optional: Pick<
    ReceivedCommand,
    'affectedSopClassUid' | 'affectedSopInstanceUid' | 'moveOriginatorAeTitle' | 'moveOriginatorMessageId'
  > = {};
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 8 > bytes.length) throw new CommandSetError(`command set truncated at byte ${offset}`);
    const group = bytes.readUInt16LE(offset);
    const elementNumber = bytes.readUInt16LE(offset + 2);
    const end = offset + 8 + bytes.readUInt32LE(offset + 4);
    if (group !== 0x0000 || end > bytes.length) {
      throw new CommandSetError(
        `malformed command set: element (${group.toString(16).padStart(4, '0')},${elementNumber.toString(16).padStart(4, '0')}) at byte ${offset}`,
      );
    }
    const value = bytes.subarray(offset + 8, end);
    switch (elementNumber) {
      case 0x0002:
        optional.affectedSopClassUid = uidText(value);
        break;
      case 0x0100:
        commandField = us(value, '(0000,0100) CommandField');
        break;
      case 0x0110:
        messageId = us(value, '(0000,0110) MessageID');
        break;
      case 0x0800:
        dataSetType = us(value, '(0000,0800) CommandDataSetType');
        break;
      case 0x1000:
        optional.affectedSopInstanceUid = uidText(value);
        break;
      case 0x1030: {
        // AE: space padded (PS3.5 6.2); some senders pad with NUL. A value that is no AE title
        // (too long, control characters) is dropped: the store's report naming it would be refused
        // as a whole, and with it the indexing of everything the association stored.
        const aeTitle = value.toString('latin1').replace(/^ +|[ \0]+$/g, '');
        if (aeTitleProblem(aeTitle) === undefined) optional.moveOriginatorAeTitle = aeTitle;
        break;
      }
      case 0x1031:
        optional.moveOriginatorMessageId = us(value, '(0000,1031) MoveOriginatorMessageID');
        break;
    }
    offset = end;
  }
  if (commandField === undefined) throw new CommandSetError('command set without (0000,0100) CommandField');
  if (messageId === undefined) throw new CommandSetError('command set without (0000,0110) MessageID');
  if (dataSetType === undefined) {
    throw new CommandSetError('command set without (0000,0800) CommandDataSetType');
  }
  return { commandField, messageId, ...optional, hasDataSet: dataSetType !== NO_DATA_SET };
}

/** LO values are padded to even length with a space (PS3.5 6.2). */
function loValue(value: string): Buffer {
  return Buffer.from(value.length % 2 === 0 ? value : `${value} `, 'latin1');
}

export interface ResponseCommand {
  commandField: number;
  messageIdBeingRespondedTo: number;
  affectedSopClassUid?: string;
  affectedSopInstanceUid?: string;
  status: number;
  /** Printable ASCII only; cut to 64 characters. */
  errorComment?: string;
}

/** PS3.7 9.3.1.2 (C-STORE-RSP), 9.3.5.2 (C-ECHO-RSP). */
export function encodeResponseCommand(response: ResponseCommand): Buffer {
  const elements: Buffer[] = [];
  if (response.affectedSopClassUid !== undefined) {
    elements.push(element(0x0002, uidValue(response.affectedSopClassUid)));
  }
  elements.push(
    element(0x0100, usValue(response.commandField)),
    element(0x0120, usValue(response.messageIdBeingRespondedTo)),
    element(0x0800, usValue(NO_DATA_SET)),
    element(0x0900, usValue(response.status)),
  );
  if (response.errorComment !== undefined) {
    const comment = response.errorComment.replace(/[^\x20-\x5b\x5d-\x7e]/g, '?').slice(0, ERROR_COMMENT_MAX);
    elements.push(element(0x0902, loValue(comment)));
  }
  if (response.affectedSopInstanceUid !== undefined) {
    elements.push(element(0x1000, uidValue(response.affectedSopInstanceUid)));
  }
  return commandSet(elements);
}
