/**
 * DIMSE command sets (PS3.7 9.3.1 and E.1): always Implicit VR Little Endian, group 0000 only,
 * led by (0000,0000) CommandGroupLength.
 */
export const CommandField = Object.freeze({
  CStoreRq: 0x0001,
  CStoreRsp: 0x8001,
  CFindRq: 0x0020,
  CFindRsp: 0x8020,
  CEchoRq: 0x0030,
  CEchoRsp: 0x8030,
  CCancelRq: 0x0fff,
} as const);

/** PS3.7 E.1: (0000,0800) 0x0101 means no data set follows; anything else means one does. */
const DATA_SET_PRESENT = 0x0000;
export const NO_DATA_SET = 0x0101;

export const PRIORITY_CODES = Object.freeze({ MEDIUM: 0x0000, HIGH: 0x0001, LOW: 0x0002 } as const);

export type DimsePriority = keyof typeof PRIORITY_CODES;

/** One element of group 0000, Implicit VR Little Endian. */
export function element(elementNumber: number, value: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0x0000, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.writeUInt32LE(value.length, 4);
  return Buffer.concat([header, value]);
}

/** UI values are padded to even length with a NUL (PS3.5 6.2). */
export function uidValue(uid: string): Buffer {
  return Buffer.from(uid.length % 2 === 0 ? uid : `${uid}\0`, 'latin1');
}

export function usValue(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(value, 0);
  return bytes;
}

export interface CStoreRequestCommand {
  sopClassUid: string;
  sopInstanceUid: string;
  messageId: number;
  priority: number;
}

/** The command set: (0000,0000) CommandGroupLength, then the elements given in ascending order. */
export function commandSet(elements: readonly Buffer[]): Buffer {
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  return Buffer.concat([element(0x0000, groupLength), body]);
}

/** PS3.7 9.3.1.1, Table 9.3-1 */
export function encodeCStoreRq(command: CStoreRequestCommand): Buffer {
  return commandSet([
    element(0x0002, uidValue(command.sopClassUid)),
    element(0x0100, usValue(CommandField.CStoreRq)),
    element(0x0110, usValue(command.messageId)),
    element(0x0700, usValue(command.priority)),
    element(0x0800, usValue(DATA_SET_PRESENT)),
    element(0x1000, uidValue(command.sopInstanceUid)),
  ]);
}

/** PS3.7 9.3.5.1, Table 9.3-12: Verification, no data set */
export function encodeCEchoRq(command: { sopClassUid: string; messageId: number }): Buffer {
  return commandSet([
    element(0x0002, uidValue(command.sopClassUid)),
    element(0x0100, usValue(CommandField.CEchoRq)),
    element(0x0110, usValue(command.messageId)),
    element(0x0800, usValue(NO_DATA_SET)),
  ]);
}

/** PS3.7 9.3.2.1, Table 9.3-3: the identifier follows as the data set */
export function encodeCFindRq(command: { sopClassUid: string; messageId: number; priority: number }): Buffer {
  return commandSet([
    element(0x0002, uidValue(command.sopClassUid)),
    element(0x0100, usValue(CommandField.CFindRq)),
    element(0x0110, usValue(command.messageId)),
    element(0x0700, usValue(command.priority)),
    element(0x0800, usValue(DATA_SET_PRESENT)),
  ]);
}

/** PS3.7 9.3.2.3, Table 9.3-5: cancels the operation `messageIdBeingRespondedTo`; no data set */
export function encodeCCancelRq(command: { messageIdBeingRespondedTo: number }): Buffer {
  return commandSet([
    element(0x0100, usValue(CommandField.CCancelRq)),
    element(0x0120, usValue(command.messageIdBeingRespondedTo)),
    element(0x0800, usValue(NO_DATA_SET)),
  ]);
}

export interface DecodedCommand {
  commandField: number;
  messageIdBeingRespondedTo?: number;
  status?: number;
  errorComment?: string;
  affectedSopInstanceUid?: string;
  /** (0000,0800) is not 0x0101: a data set follows this command (PS3.7 E.1) */
  dataSetPresent: boolean;
}

/** Reads the few command elements a response needs; others are skipped. */
export function decodeCommand(bytes: Buffer): DecodedCommand {
  let commandField: number | undefined;
  let dataSetPresent = false;
  const decoded: Omit<DecodedCommand, 'commandField' | 'dataSetPresent'> = {};
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    const group = bytes.readUInt16LE(offset);
    const elementNumber = bytes.readUInt16LE(offset + 2);
    const length = bytes.readUInt32LE(offset + 4);
    const start = offset + 8;
    const end = start + length;
    if (group !== 0x0000 || end > bytes.length) {
      throw new Error(
        `malformed command set: element (${group.toString(16)},${elementNumber.toString(16)}) at byte ${offset}`,
      );
    }
    const value = bytes.subarray(start, end);
    switch (elementNumber) {
      case 0x0100:
        commandField = value.readUInt16LE(0);
        break;
      case 0x0120:
        decoded.messageIdBeingRespondedTo = value.readUInt16LE(0);
        break;
      case 0x0800:
        dataSetPresent = value.readUInt16LE(0) !== NO_DATA_SET;
        break;
      case 0x0900:
        decoded.status = value.readUInt16LE(0);
        break;
      case 0x0902:
        decoded.errorComment = value.toString('latin1').replace(/[\0 ]+$/, '');
        break;
      case 0x1000:
        decoded.affectedSopInstanceUid = value.toString('latin1').replace(/[\0 ]+$/, '');
        break;
    }
    offset = end;
  }
  if (commandField === undefined) throw new Error('malformed command set: no (0000,0100) CommandField');
  return { commandField, dataSetPresent, ...decoded };
}
