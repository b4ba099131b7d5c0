import { tagKey, uidText } from '@pacslink/dicom';

/**
 * DIMSE command sets (PS3.7 9.3.1 and E.1): always Implicit VR Little Endian, group 0000 only,
 * led by (0000,0000) CommandGroupLength.
 */
export const CommandField = Object.freeze({
  CStoreRq: 0x0001,
  CStoreRsp: 0x8001,
  CGetRq: 0x0010,
  CGetRsp: 0x8010,
  CFindRq: 0x0020,
  CFindRsp: 0x8020,
  CMoveRq: 0x0021,
  CMoveRsp: 0x8021,
  CEchoRq: 0x0030,
  CEchoRsp: 0x8030,
  CCancelRq: 0x0fff,
  NSetRq: 0x0120,
  NSetRsp: 0x8120,
  NCreateRq: 0x0140,
  NCreateRsp: 0x8140,
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

/** PS3.7 9.3.3.1, Table 9.3-6: the identifier (the UIDs to retrieve) follows as the data set */
export function encodeCGetRq(command: { sopClassUid: string; messageId: number; priority: number }): Buffer {
  return commandSet([
    element(0x0002, uidValue(command.sopClassUid)),
    element(0x0100, usValue(CommandField.CGetRq)),
    element(0x0110, usValue(command.messageId)),
    element(0x0700, usValue(command.priority)),
    element(0x0800, usValue(DATA_SET_PRESENT)),
  ]);
}

/** AE values are padded to even length with a space (PS3.5 6.2). */
function aeValue(aeTitle: string): Buffer {
  return Buffer.from(aeTitle.length % 2 === 0 ? aeTitle : `${aeTitle} `, 'latin1');
}

/** PS3.7 9.3.4.1, Table 9.3-8: (0000,0600) MoveDestination, then the identifier as the data set */
export function encodeCMoveRq(command: {
  sopClassUid: string;
  messageId: number;
  priority: number;
  moveDestination: string;
}): Buffer {
  return commandSet([
    element(0x0002, uidValue(command.sopClassUid)),
    element(0x0100, usValue(CommandField.CMoveRq)),
    element(0x0110, usValue(command.messageId)),
    element(0x0600, aeValue(command.moveDestination)),
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

/**
 * C-GET / C-MOVE sub-operation counts (PS3.7 9.3.3.2, (0000,1020)-(0000,1023)): each present only
 * when the response carries it (PS3.4 C.4.2.1.6: a final response may leave `remaining` out).
 */
export interface SubOperationCounts {
  remaining?: number;
  completed?: number;
  failed?: number;
  warning?: number;
}

const SUB_OPERATION_ELEMENTS: Readonly<Record<number, keyof SubOperationCounts>> = Object.freeze({
  0x1020: 'remaining',
  0x1021: 'completed',
  0x1022: 'failed',
  0x1023: 'warning',
});

/**
 * PS3.7 10.3.5.1, Table 10.3-9: N-CREATE-RQ; the Attribute List follows as the data set, unless
 * there is none (it is optional: the SCP then gives the attributes their initial values)
 */
export function encodeNCreateRq(command: {
  sopClassUid: string;
  sopInstanceUid: string;
  messageId: number;
  withAttributeList: boolean;
}): Buffer {
  return commandSet([
    element(0x0002, uidValue(command.sopClassUid)),
    element(0x0100, usValue(CommandField.NCreateRq)),
    element(0x0110, usValue(command.messageId)),
    element(0x0800, usValue(command.withAttributeList ? DATA_SET_PRESENT : NO_DATA_SET)),
    element(0x1000, uidValue(command.sopInstanceUid)),
  ]);
}

/** PS3.7 10.3.3.1, Table 10.3-5: N-SET-RQ (Requested SOP Class/Instance); the Modification List follows */
export function encodeNSetRq(command: {
  sopClassUid: string;
  sopInstanceUid: string;
  messageId: number;
}): Buffer {
  return commandSet([
    element(0x0003, uidValue(command.sopClassUid)),
    element(0x0100, usValue(CommandField.NSetRq)),
    element(0x0110, usValue(command.messageId)),
    element(0x0800, usValue(DATA_SET_PRESENT)),
    element(0x1001, uidValue(command.sopInstanceUid)),
  ]);
}

/** An AT value (PS3.5 6.2): tags as DICOM JSON keys, `00100010`. */
function tagList(value: Buffer): string[] {
  const tags: string[] = [];
  for (let offset = 0; offset + 4 <= value.length; offset += 4) {
    tags.push(tagKey(((value.readUInt16LE(offset) << 16) | value.readUInt16LE(offset + 2)) >>> 0));
  }
  return tags;
}

export interface DecodedCommand {
  commandField: number;
  messageIdBeingRespondedTo?: number;
  status?: number;
  errorComment?: string;
  affectedSopInstanceUid?: string;
  /** (0000,0901) Offending Element: the attributes a failure status is about (PS3.7 C.4) */
  offendingElements?: string[];
  /** (0000,1005) Attribute Identifier List: e.g. the attributes of a 0x0107 or 0x0116 warning */
  attributeIdentifiers?: string[];
  subOperations?: SubOperationCounts;
  /** (0008,0058) Failed SOP Instance UID List, where DCMTK puts it: in the command set */
  failedSopInstanceUids?: string[];
  /** (0000,0800) is not 0x0101: a data set follows this command (PS3.7 E.1) */
  dataSetPresent: boolean;
}

/** A UI value with several UIDs (VM 1-n), padding dropped. */
export function uidList(value: Buffer): string[] {
  return value
    .toString('latin1')
    .split('\\')
    .map((uid) => uid.replace(/[\0 ]+$/, '').trim())
    .filter((uid) => uid !== '');
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
    if (end > bytes.length) {
      throw new Error(
        `malformed command set: element (${group.toString(16)},${elementNumber.toString(16)}) at byte ${offset}`,
      );
    }
    const value = bytes.subarray(start, end);
    // PS3.7 E.1 allows group 0000 only, but DCMTK's C-GET SCP (Orthanc's) puts (0008,0058), the
    // failures so far, into its C-GET-RSP command sets instead of an identifier: it is read, other
    // groups are skipped.
    if (group !== 0x0000) {
      if (group === 0x0008 && elementNumber === 0x0058) decoded.failedSopInstanceUids = uidList(value);
      offset = end;
      continue;
    }
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
      case 0x0901:
        decoded.offendingElements = tagList(value);
        break;
      case 0x0902:
        decoded.errorComment = value.toString('latin1').replace(/[\0 ]+$/, '');
        break;
      case 0x1000:
        decoded.affectedSopInstanceUid = uidText(value);
        break;
      case 0x1005:
        decoded.attributeIdentifiers = tagList(value);
        break;
      case 0x1020:
      case 0x1021:
      case 0x1022:
      case 0x1023:
        if (value.length !== 2)
          throw new Error(
            `malformed command set: (0000,${elementNumber.toString(16)}) is ${value.length} bytes, not 2`,
          );
        decoded.subOperations = {
          ...decoded.subOperations,
          [SUB_OPERATION_ELEMENTS[elementNumber]]: value.readUInt16LE(0),
        };
        break;
    }
    offset = end;
  }
  if (commandField === undefined) throw new Error('malformed command set: no (0000,0100) CommandField');
  return { commandField, dataSetPresent, ...decoded };
}
