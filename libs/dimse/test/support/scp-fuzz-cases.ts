import { commandSet, element, uidValue, usValue } from '../../src/store/command-set';
import { PduType, PdvControl, encodeAbort, encodeReleaseRq } from '../../src/upper-layer/pdu';
import {
  CT_IMAGE_STORAGE,
  EXPLICIT_VR_LE,
  IMPLICIT_VR_LE,
  VERIFICATION,
  associateRq,
  pData,
} from './raw-requestor';

/**
 * The Storage SCP fuzz test's cases (test/storage-scp.fuzz.int-spec.ts): families of malformed
 * PDUs, command sets and data sets, each drawing its details from a seeded PRNG, and the valid
 * controls among them.
 */

export const FUZZ_CALLED_AE = 'PACSLINK';
export const FUZZ_CALLING_AE = 'FUZZER';
/** the P-DATA-TF limit the SCP under test announces, and the cases respect unless they lie */
export const FUZZ_MAX_PDU = 16 * 1024;
const AE = FUZZ_CALLED_AE;
const CALLER = FUZZ_CALLING_AE;
const MAX_PDU = FUZZ_MAX_PDU;

// ------------------------------------------------------------------------------------ the PRNG

/** mulberry32: a small seeded PRNG, so that a failing run can be replayed from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Dice {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }
  pick<T>(values: readonly T[]): T {
    return values[this.int(0, values.length - 1)];
  }
  bytes(length: number): Buffer {
    const bytes = Buffer.alloc(length);
    for (let index = 0; index < length; index += 1) bytes[index] = this.int(0, 255);
    return bytes;
  }
  uid(): string {
    let digits = String(this.int(1, 9));
    while (digits.length < 30) digits += String(this.int(0, 9));
    return `2.25.${digits}`;
  }
  /** `bytes` cut into writes of random sizes: PDUs split and joined across TCP segments. */
  split(bytes: Buffer): Buffer[] {
    const writes: Buffer[] = [];
    for (let offset = 0; offset < bytes.length;) {
      const size = this.pick([1, 7, 64, 1500, 9000, bytes.length]);
      writes.push(bytes.subarray(offset, offset + size));
      offset += size;
    }
    return writes;
  }
}

// ------------------------------------------------------------- data sets, Explicit VR Little Endian

const LONG_VRS = new Set(['OB', 'OW', 'SQ', 'UN', 'UT', 'UC', 'UR']);
const UNDEFINED = 0xffffffff;

function tagBytes(tag: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt16LE(tag >>> 16, 0);
  bytes.writeUInt16LE(tag & 0xffff, 2);
  return bytes;
}

/** One element; `length` may lie about `value`. */
function el(tag: number, vr: string, value: Buffer, length = value.length): Buffer {
  if (LONG_VRS.has(vr)) {
    const header = Buffer.alloc(12);
    tagBytes(tag).copy(header, 0);
    header.write(vr, 4, 'latin1');
    header.writeUInt32LE(length >>> 0, 8);
    return Buffer.concat([header, value]);
  }
  const header = Buffer.alloc(8);
  tagBytes(tag).copy(header, 0);
  header.write(vr, 4, 'latin1');
  header.writeUInt16LE(length & 0xffff, 6);
  return Buffer.concat([header, value]);
}

function delimiter(tag: number, length = 0): Buffer {
  const bytes = Buffer.alloc(8);
  tagBytes(tag).copy(bytes, 0);
  bytes.writeUInt32LE(length >>> 0, 4);
  return bytes;
}
const ITEM = 0xfffee000;
const ITEM_DELIMITATION = 0xfffee00d;
const SEQUENCE_DELIMITATION = 0xfffee0dd;

function text(value: string, pad = ' '): Buffer {
  return Buffer.from(value.length % 2 === 0 ? value : `${value}${pad}`, 'latin1');
}

export interface Identity {
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
}

/** The elements up to (0020,000E): everything the store indexes. */
function headElements(identity: Identity): Buffer[] {
  return [
    el(0x00080016, 'UI', text(CT_IMAGE_STORAGE, '\0')),
    el(0x00080018, 'UI', text(identity.sopInstanceUid, '\0')),
    el(0x00080060, 'CS', text('CT')),
    el(0x00100010, 'PN', text('FUZZ^CASE')),
    el(0x00100020, 'LO', text('FUZZ-1')),
    el(0x0020000d, 'UI', text(identity.studyInstanceUid, '\0')),
    el(0x0020000e, 'UI', text(identity.seriesInstanceUid, '\0')),
  ];
}

/** A whole, valid data set: the indexed elements, a sequence (defined or undefined lengths), pixels. */
export function validDataSet(dice: Dice, identity: Identity): Buffer {
  const itemBody = el(0x00080100, 'SH', text('T-D1100'));
  const sequence =
    dice.int(0, 1) === 0
      ? el(0x00082218, 'SQ', Buffer.concat([delimiter(ITEM, itemBody.length), itemBody]))
      : Buffer.concat([
          el(0x00082218, 'SQ', Buffer.alloc(0), UNDEFINED),
          delimiter(ITEM, UNDEFINED),
          itemBody,
          delimiter(ITEM_DELIMITATION),
          delimiter(SEQUENCE_DELIMITATION),
        ]);
  const pixels = dice.bytes(2 * dice.int(0, 20_000));
  return Buffer.concat([
    ...headElements(identity).slice(0, 3),
    sequence,
    ...headElements(identity).slice(3),
    el(0x7fe00010, 'OW', pixels),
  ]);
}

/** One element in Implicit VR Little Endian (PS3.5 7.1.3): tag, 32-bit length, value. */
function implicitEl(tag: number, value: Buffer, length = value.length): Buffer {
  const header = Buffer.alloc(8);
  tagBytes(tag).copy(header, 0);
  header.writeUInt32LE(length >>> 0, 4);
  return Buffer.concat([header, value]);
}

/** A whole, valid data set in Implicit VR Little Endian, with an undefined-length sequence. */
export function validImplicitDataSet(dice: Dice, identity: Identity): Buffer {
  return Buffer.concat([
    implicitEl(0x00080016, text(CT_IMAGE_STORAGE, '\0')),
    implicitEl(0x00080018, text(identity.sopInstanceUid, '\0')),
    implicitEl(0x00080060, text('CT')),
    implicitEl(0x00082218, Buffer.alloc(0), UNDEFINED),
    delimiter(ITEM, UNDEFINED),
    implicitEl(0x00080100, text('T-D1100')),
    delimiter(ITEM_DELIMITATION),
    delimiter(SEQUENCE_DELIMITATION),
    implicitEl(0x00100010, text('FUZZ^CASE')),
    implicitEl(0x00100020, text('FUZZ-1')),
    implicitEl(0x0020000d, text(identity.studyInstanceUid, '\0')),
    implicitEl(0x0020000e, text(identity.seriesInstanceUid, '\0')),
    implicitEl(0x7fe00010, dice.bytes(2 * dice.int(0, 20_000))),
  ]);
}

// ---------------------------------------------------------------------------------- the cases

type Expect = 'stored' | 'refused' | 'any';

export interface FuzzCase {
  index: number;
  family: string;
  writes: Buffer[];
  /** after the last write: wait for the SCP to end it, or hang up */
  then: 'wait' | 'hang-up';
  expect: Expect;
  /** the C-STORE's Affected SOP Instance UID, when the case sends one */
  sopInstanceUid?: string;
  dataSet?: Buffer;
}

interface CaseDraft {
  family: string;
  bytes: Buffer[];
  then?: 'wait' | 'hang-up';
  expect: Expect;
  sopInstanceUid?: string;
  dataSet?: Buffer;
}

const STUDY = { studyInstanceUid: '2.25.1111', seriesInstanceUid: '2.25.1111.1' };

function associate(contexts?: Parameters<typeof associateRq>[0]['contexts']): Buffer {
  return associateRq({ callingAeTitle: CALLER, calledAeTitle: AE, maxPduLength: MAX_PDU, contexts });
}

function cStoreCommand(elements: { [elementNumber: number]: Buffer }): Buffer {
  return commandSet(
    Object.entries(elements)
      .map(([number, value]) => [Number(number), value] as const)
      .sort(([a], [b]) => a - b)
      .map(([number, value]) => element(number, value)),
  );
}

function storeElements(sopInstanceUid: string): { [elementNumber: number]: Buffer } {
  return {
    0x0002: uidValue(CT_IMAGE_STORAGE),
    0x0100: usValue(0x0001),
    0x0110: usValue(7),
    0x0700: usValue(0),
    0x0800: usValue(0x0000),
    0x1000: uidValue(sopInstanceUid),
  };
}

/** A data set's P-DATA-TF PDUs, each PDV of at most `room` bytes, the last one marked last. */
function dataPdus(dataSet: Buffer, room: number, contextId = 1, markLast = true): Buffer[] {
  const pdus: Buffer[] = [];
  for (let offset = 0; ; offset += room) {
    const piece = dataSet.subarray(offset, offset + room);
    const last = offset + room >= dataSet.length;
    pdus.push(pData(contextId, last && markLast ? PdvControl.Last : 0, piece));
    if (last) return pdus;
  }
}

/** One C-STORE of `dataSet` after a valid association, then a release; `expect` as given. */
function storeCase(
  dice: Dice,
  family: string,
  dataSet: Buffer,
  sopInstanceUid: string,
  expect: Expect,
  transferSyntaxUid = EXPLICIT_VR_LE,
): CaseDraft {
  const room = dice.pick([16, 1000, MAX_PDU - 6]);
  const command = cStoreCommand(storeElements(sopInstanceUid));
  return {
    family,
    bytes: [
      associate([{ id: 1, abstractSyntaxUid: CT_IMAGE_STORAGE, transferSyntaxUids: [transferSyntaxUid] }]),
      pData(1, PdvControl.Command | PdvControl.Last, command),
      ...dataPdus(dataSet, room),
      encodeReleaseRq(),
    ],
    expect,
    sopInstanceUid,
    dataSet,
  };
}

export function identity(dice: Dice): Identity {
  return { ...STUDY, sopInstanceUid: dice.uid() };
}

/** Families of cases, each drawing its details from the dice. */
const FAMILIES: ReadonlyArray<(dice: Dice) => CaseDraft> = [
  // --- before the association
  (dice) => ({ family: 'random bytes', bytes: [dice.bytes(dice.int(1, 3000))], expect: 'refused' }),
  (dice) => {
    const body = dice.bytes(dice.int(0, 200));
    const header = Buffer.alloc(6);
    header.writeUInt8(dice.pick([0x00, 0x08, 0x10, 0x7f, 0xff]), 0);
    header.writeUInt32BE(body.length, 2);
    return { family: 'unknown PDU type', bytes: [header, body], expect: 'refused' };
  },
  (dice) => {
    const type = dice.pick([
      PduType.AssociateAc,
      PduType.AssociateRj,
      PduType.PDataTf,
      PduType.ReleaseRq,
      PduType.ReleaseRp,
    ]);
    const body = type === PduType.PDataTf ? pData(1, 3, Buffer.alloc(10)).subarray(6) : Buffer.alloc(4);
    const header = Buffer.alloc(6);
    header.writeUInt8(type, 0);
    header.writeUInt32BE(body.length, 2);
    return { family: 'a PDU before the A-ASSOCIATE-RQ', bytes: [header, body], expect: 'refused' };
  },
  (dice) => {
    const rq = Buffer.from(associate());
    const actual = rq.length - 6;
    const lie = dice.pick(['longer', 'shorter', 'zero', 'max'] as const);
    const length = {
      longer: actual + dice.int(1, 5000),
      shorter: dice.int(1, actual - 1),
      zero: 0,
      max: 0xffffffff,
    }[lie];
    rq.writeUInt32BE(length >>> 0, 2);
    return { family: `A-ASSOCIATE-RQ length ${lie}`, bytes: [rq], expect: 'refused' };
  },
  (dice) => {
    const rq = associate();
    const cut = dice.int(6, rq.length - 1);
    const truncated = Buffer.from(rq.subarray(0, cut));
    truncated.writeUInt32BE(cut - 6, 2);
    return {
      family: 'A-ASSOCIATE-RQ truncated (length fixed up)',
      bytes: [truncated, encodeReleaseRq()],
      expect: 'refused',
    };
  },
  (dice) => {
    // An item header's 16-bit length (PS3.8 9.3.2) made to run past its PDU or its parent item.
    const rq = Buffer.from(associate());
    const offsets: number[] = [];
    for (let offset = 6 + 68; offset + 4 <= rq.length; offset += 4 + rq.readUInt16BE(offset + 2))
      offsets.push(offset);
    const at = dice.pick(offsets);
    rq.writeUInt16BE(Math.min(0xffff, rq.readUInt16BE(at + 2) + dice.int(1, 400)), at + 2);
    return {
      family: 'A-ASSOCIATE-RQ item length overrunning',
      bytes: [rq, encodeReleaseRq()],
      expect: 'refused',
    };
  },
  (dice) => {
    const rq = Buffer.from(associate());
    for (let flips = dice.int(1, 6); flips > 0; flips -= 1) {
      const at = dice.int(6, rq.length - 1);
      rq[at] ^= 1 << dice.int(0, 7);
    }
    return { family: 'A-ASSOCIATE-RQ bit flips', bytes: [rq, encodeReleaseRq()], expect: 'refused' };
  },
  () => ({ family: 'hang-up during negotiation', bytes: [associate()], then: 'hang-up', expect: 'refused' }),
  (dice) => ({
    family: 'many, odd, even and duplicate context ids',
    bytes: [
      associate(
        Array.from({ length: dice.int(0, 200) }, () => ({
          id: dice.int(0, 255),
          abstractSyntaxUid: dice.pick([CT_IMAGE_STORAGE, VERIFICATION, '1.2.3', '']),
          transferSyntaxUids: [dice.pick([EXPLICIT_VR_LE, IMPLICIT_VR_LE, '1.2.840.10008.1.2.2'])],
        })),
      ),
      encodeReleaseRq(),
    ],
    expect: 'refused',
  }),
  (dice) => ({
    family: 'refused AE titles',
    bytes: [
      associateRq({
        callingAeTitle: dice.pick([CALLER, 'STRANGER', '']),
        calledAeTitle: dice.pick(['ELSEWHERE', '', '\0\0\0']),
        maxPduLength: dice.pick([0, 1, MAX_PDU]),
      }),
    ],
    expect: 'refused',
  }),

  // --- inside the association: PDUs and PDVs
  (dice) => {
    const sop = dice.uid();
    const pdu = Buffer.from(pData(1, 3, cStoreCommand(storeElements(sop))));
    const pdvLength = dice.pick([0, 1, pdu.length - 9, pdu.length, 0xffffffff]);
    pdu.writeUInt32BE(pdvLength >>> 0, 6);
    return {
      family: 'bad PDV item length',
      bytes: [associate(), pdu, encodeReleaseRq()],
      expect: 'refused',
      sopInstanceUid: sop,
    };
  },
  (dice) => {
    const sop = dice.uid();
    const pdu = Buffer.from(pData(1, 3, cStoreCommand(storeElements(sop))));
    const lie = dice.pick(['longer', 'shorter', 'zero', 'max'] as const);
    const actual = pdu.length - 6;
    pdu.writeUInt32BE(
      { longer: actual + dice.int(1, 2000), shorter: dice.int(1, actual - 1), zero: 0, max: 0xffffffff }[
        lie
      ] >>> 0,
      2,
    );
    return {
      family: `P-DATA-TF length ${lie}`,
      bytes: [associate(), pdu],
      expect: 'refused',
      sopInstanceUid: sop,
    };
  },
  (dice) => {
    const id = identity(dice);
    const dataSet = validDataSet(dice, id);
    const contextId = dice.pick([0, 2, 3, 127, 255]);
    return {
      family: 'a context id not negotiated',
      bytes: [
        associate(),
        pData(contextId, 3, cStoreCommand(storeElements(id.sopInstanceUid))),
        ...dataPdus(dataSet, MAX_PDU - 6, contextId),
        encodeReleaseRq(),
      ],
      expect: 'refused',
      sopInstanceUid: id.sopInstanceUid,
    };
  },
  (dice) => {
    // The data set's context is not its command's.
    const id = identity(dice);
    return {
      family: 'data set on another context than its command',
      bytes: [
        associate([
          { id: 1, abstractSyntaxUid: CT_IMAGE_STORAGE, transferSyntaxUids: [EXPLICIT_VR_LE] },
          { id: 3, abstractSyntaxUid: CT_IMAGE_STORAGE, transferSyntaxUids: [EXPLICIT_VR_LE] },
        ]),
        pData(1, 3, cStoreCommand(storeElements(id.sopInstanceUid))),
        ...dataPdus(validDataSet(dice, id), MAX_PDU - 6, 3),
        encodeReleaseRq(),
      ],
      expect: 'refused',
      sopInstanceUid: id.sopInstanceUid,
    };
  },
  (dice) => {
    // The message control header (PS3.8 E.2) with its command and last bits wrong.
    const id = identity(dice);
    const dataSet = validDataSet(dice, id);
    const variant = dice.pick([
      'command as data',
      'data as command',
      'command never last',
      'data with no command',
    ] as const);
    const command = cStoreCommand(storeElements(id.sopInstanceUid));
    const bytes = {
      'command as data': [pData(1, PdvControl.Last, command), ...dataPdus(dataSet, 4000)],
      'data as command': [
        pData(1, 3, command),
        pData(1, PdvControl.Command, dataSet.subarray(0, 100)),
        ...dataPdus(dataSet, 4000),
      ],
      'command never last': [pData(1, PdvControl.Command, command), ...dataPdus(dataSet, 4000)],
      'data with no command': dataPdus(dataSet, 4000),
    }[variant];
    return {
      family: `control bits: ${variant}`,
      bytes: [associate(), ...bytes, encodeReleaseRq()],
      expect: 'refused',
      sopInstanceUid: id.sopInstanceUid,
    };
  },
  (dice) => ({
    family: 'a PDU the requestor may not send',
    bytes: [
      associate(),
      dice.pick([
        associate(),
        Buffer.from([0x02, 0, 0, 0, 0, 4, 0, 0, 0, 0]),
        Buffer.from([0x03, 0, 0, 0, 0, 4, 0, 1, 1, 1]),
        Buffer.from([0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0]),
        Buffer.from([0x07, 0, 0, 0, 0, 1, 0]),
      ]),
    ],
    expect: 'refused',
  }),

  // --- command sets
  (dice) => {
    const sop = dice.uid();
    const elements = storeElements(sop);
    const missing = dice.pick([0x0002, 0x0100, 0x0110, 0x0800, 0x1000]);
    delete elements[missing];
    return {
      family: `C-STORE-RQ without (0000,${missing.toString(16).padStart(4, '0')})`,
      bytes: [
        associate(),
        pData(1, 3, cStoreCommand(elements)),
        ...dataPdus(validDataSet(dice, { ...STUDY, sopInstanceUid: sop }), 8000),
        encodeReleaseRq(),
      ],
      expect: 'refused',
      sopInstanceUid: sop,
    };
  },
  (dice) => {
    const sop = dice.uid();
    const elements = storeElements(sop);
    const garbled = dice.pick([0x0002, 0x0100, 0x0110, 0x0800, 0x1000]);
    elements[garbled] = dice.pick([
      Buffer.alloc(0),
      dice.bytes(1),
      dice.bytes(3),
      dice.bytes(4),
      dice.bytes(64),
    ]);
    return {
      family: `C-STORE-RQ with a garbage (0000,${garbled.toString(16).padStart(4, '0')})`,
      bytes: [
        associate(),
        pData(1, 3, cStoreCommand(elements)),
        ...dataPdus(validDataSet(dice, { ...STUDY, sopInstanceUid: sop }), 8000),
        encodeReleaseRq(),
      ],
      // A garbage UID is taken as the instance's: the data set's own then differs, so it is refused.
      expect: 'refused',
      sopInstanceUid: sop,
    };
  },
  (dice) => {
    const sop = dice.uid();
    const command = Buffer.from(cStoreCommand(storeElements(sop)));
    const variant = dice.pick([
      'random bytes',
      'element of group 0008',
      'element length overrunning',
      'cut short',
    ]);
    let bytes: Buffer;
    switch (variant) {
      case 'random bytes':
        bytes = dice.bytes(dice.int(1, 300));
        break;
      case 'element of group 0008':
        bytes = Buffer.concat([command, Buffer.from([0x08, 0, 0x18, 0, 2, 0, 0, 0, 0x31, 0x00])]);
        break;
      case 'element length overrunning':
        command.writeUInt32LE(command.length, 12 + 4);
        bytes = command;
        break;
      default:
        bytes = command.subarray(0, dice.int(1, command.length - 1));
    }
    return {
      family: `command set: ${variant}`,
      bytes: [
        associate(),
        pData(1, 3, bytes),
        ...dataPdus(validDataSet(dice, { ...STUDY, sopInstanceUid: sop }), 8000),
        encodeReleaseRq(),
      ],
      expect: 'refused',
      sopInstanceUid: sop,
    };
  },
  (dice) => {
    const id = identity(dice);
    const command = Buffer.from(cStoreCommand(storeElements(id.sopInstanceUid)));
    for (let flips = dice.int(1, 3); flips > 0; flips -= 1)
      command[dice.int(0, command.length - 1)] ^= 1 << dice.int(0, 7);
    // A flip may land in the priority or the message id: then the instance may be stored whole.
    const dataSet = validDataSet(dice, id);
    return {
      family: 'command set bit flips',
      bytes: [associate(), pData(1, 3, command), ...dataPdus(dataSet, 8000), encodeReleaseRq()],
      expect: 'any',
      sopInstanceUid: id.sopInstanceUid,
      dataSet,
    };
  },
  (dice) => {
    const sop = dice.uid();
    const field = dice.pick([0x0020, 0x0010, 0x0021, 0x0140, 0x0fff, 0x8001, 0xffff]);
    const elements = { ...storeElements(sop), 0x0100: usValue(field) };
    return {
      family: `command 0x${field.toString(16)} not offered`,
      bytes: [
        associate(),
        pData(1, 3, cStoreCommand(elements)),
        ...dataPdus(validDataSet(dice, { ...STUDY, sopInstanceUid: sop }), 8000),
        encodeReleaseRq(),
      ],
      expect: 'refused',
      sopInstanceUid: sop,
    };
  },
  (dice) => ({
    family: 'C-ECHO-RQ announcing a data set',
    bytes: [
      associate([{ id: 1, abstractSyntaxUid: VERIFICATION, transferSyntaxUids: [IMPLICIT_VR_LE] }]),
      pData(
        1,
        3,
        cStoreCommand({
          0x0002: uidValue(VERIFICATION),
          0x0100: usValue(0x0030),
          0x0110: usValue(1),
          0x0800: usValue(0),
        }),
      ),
      pData(1, 2, dice.bytes(20)),
      encodeReleaseRq(),
    ],
    expect: 'refused',
  }),
  (dice) => {
    const id = identity(dice);
    const elements = { ...storeElements(id.sopInstanceUid), 0x0002: uidValue('1.2.840.10008.5.1.4.1.1.4') };
    return {
      family: 'C-STORE-RQ for another SOP class than its context',
      bytes: [
        associate(),
        pData(1, 3, cStoreCommand(elements)),
        ...dataPdus(validDataSet(dice, id), 8000),
        encodeReleaseRq(),
      ],
      expect: 'refused',
      sopInstanceUid: id.sopInstanceUid,
    };
  },

  // --- data sets
  (dice) => {
    const id = identity(dice);
    return storeCase(dice, 'valid (control)', validDataSet(dice, id), id.sopInstanceUid, 'stored');
  },
  (dice) => {
    // Many PDVs in one P-DATA-TF PDU (PS3.8 9.3.5), a byte or a few each.
    const id = identity(dice);
    const dataSet = validDataSet(dice, id);
    const pdvs: Buffer[] = [];
    for (let offset = 0; offset < dataSet.length;) {
      const size = dice.int(1, 64);
      const last = offset + size >= dataSet.length;
      pdvs.push(pData(1, last ? PdvControl.Last : 0, dataSet.subarray(offset, offset + size)).subarray(6));
      offset += size;
    }
    const pdus: Buffer[] = [];
    for (let start = 0; start < pdvs.length; start += 100) {
      const body = Buffer.concat(pdvs.slice(start, start + 100));
      const header = Buffer.from([PduType.PDataTf, 0, 0, 0, 0, 0]);
      header.writeUInt32BE(body.length, 2);
      pdus.push(header, body);
    }
    return {
      family: 'valid, many tiny PDVs per PDU (control)',
      bytes: [
        associate(),
        pData(1, 3, cStoreCommand(storeElements(id.sopInstanceUid))),
        ...pdus,
        encodeReleaseRq(),
      ],
      expect: 'stored',
      sopInstanceUid: id.sopInstanceUid,
      dataSet,
    };
  },
  (dice) => {
    const id = identity(dice);
    const nested = Buffer.concat(
      Array.from({ length: dice.int(1, 200) }, () =>
        Buffer.concat([el(0x00082218, 'SQ', Buffer.alloc(0), UNDEFINED), delimiter(ITEM, UNDEFINED)]),
      ),
    );
    const dataSet = Buffer.concat([...headElements(id), nested, el(0x00080100, 'SH', text('X'))]);
    return storeCase(
      dice,
      'undefined-length sequences that never end',
      dataSet,
      id.sopInstanceUid,
      'refused',
    );
  },
  (dice) => {
    const id = identity(dice);
    const pixels = dice.bytes(2 * dice.int(0, 5000));
    const dataSet = Buffer.concat([
      ...headElements(id),
      el(0x7fe00010, 'OW', pixels, pixels.length + 2 * dice.int(1, 500_000)),
    ]);
    return storeCase(dice, 'element length past the end', dataSet, id.sopInstanceUid, 'refused');
  },
  (dice) => {
    const id = identity(dice);
    const huge = dice.pick([0xfffffff0, 0x7fffffff, 0x80000000]);
    const at = dice.pick([0x00081030, 0x7fe00010]);
    const dataSet = Buffer.concat([
      ...headElements(id),
      el(at, at === 0x7fe00010 ? 'OB' : 'UT', dice.bytes(100), huge),
    ]);
    return storeCase(dice, 'a huge VR length', dataSet, id.sopInstanceUid, 'refused');
  },
  (dice) => {
    // An indexed element claiming gigabytes: the store must not try to hold it.
    const id = identity(dice);
    const head = headElements(id);
    head[3] = el(0x00100010, 'UN', text('FUZZ^CASE'), dice.pick([0xfffffff0, 0x10000000, UNDEFINED]));
    return storeCase(
      dice,
      'an indexed element claiming gigabytes',
      Buffer.concat(head),
      id.sopInstanceUid,
      'refused',
    );
  },
  (dice) => {
    // PS3.10 7.1: File Meta Information is not part of a data set; one that carries it lies about itself.
    const id = identity(dice);
    const meta = Buffer.concat([
      ...(dice.int(0, 1) === 0 ? [el(0x00000000, 'UL', Buffer.from([4, 0, 0, 0]))] : []),
      el(0x00020002, 'UI', text(CT_IMAGE_STORAGE, '\0')),
      el(0x00020003, 'UI', text(id.sopInstanceUid, '\0')),
      el(
        0x00020010,
        'UI',
        text(dice.pick(['1.2.840.10008.1.2.4.50', IMPLICIT_VR_LE, '1.2.840.10008.1.2.2']), '\0'),
      ),
    ]);
    const whole = validDataSet(dice, id);
    // Leading, or after the first element (0008,0016): the scanner, not the meta reader, meets it.
    const where = dice.pick(['leading', 'after the first element'] as const);
    const firstEnd = 8 + whole.readUInt16LE(6);
    const dataSet =
      where === 'leading'
        ? Buffer.concat([meta, whole])
        : Buffer.concat([whole.subarray(0, firstEnd), meta, whole.subarray(firstEnd)]);
    return storeCase(
      dice,
      `a File Meta group inside the data set, ${where}`,
      dataSet,
      id.sopInstanceUid,
      'refused',
    );
  },
  (dice) => {
    // Odd value lengths (PS3.5 7.1.1 asks for even ones): what a tolerant reader still frames.
    const id = identity(dice);
    const head = headElements(id);
    head[2] = el(0x00080060, 'CS', Buffer.from(dice.pick(['CT1', 'C', 'CTXYZ']), 'latin1'));
    const dataSet = Buffer.concat(head);
    return storeCase(dice, 'odd value lengths', dataSet, id.sopInstanceUid, 'any');
  },
  (dice) => {
    const id = identity(dice);
    const head = headElements(id);
    head[3] = el(0x00100010, 'PN', text('FUZZ^CASE'), 9 + 2 * dice.int(-4, 4));
    return storeCase(
      dice,
      'a value length off by a few bytes',
      Buffer.concat(head),
      id.sopInstanceUid,
      'any',
    );
  },
  (dice) => {
    const sop = dice.uid();
    return storeCase(dice, 'random bytes as the data set', dice.bytes(dice.int(1, 40_000)), sop, 'refused');
  },
  (dice) => storeCase(dice, 'an empty data set', Buffer.alloc(0), dice.uid(), 'refused'),
  (dice) => {
    const id = identity(dice);
    const other = dice.uid();
    return storeCase(
      dice,
      "a data set whose SOP Instance UID is not the command's",
      validDataSet(dice, id),
      other,
      'refused',
    );
  },
  (dice) => {
    const id = identity(dice);
    const dataSet = Buffer.concat([
      ...headElements(id),
      delimiter(dice.pick([ITEM_DELIMITATION, SEQUENCE_DELIMITATION, ITEM]), dice.pick([0, 8])),
    ]);
    return storeCase(
      dice,
      'an item or delimiter outside any sequence',
      dataSet,
      id.sopInstanceUid,
      'refused',
    );
  },
  (dice) => {
    const id = identity(dice);
    const whole = validDataSet(dice, id);
    return storeCase(
      dice,
      'a data set cut at a random byte',
      whole.subarray(0, dice.int(1, whole.length - 1)),
      id.sopInstanceUid,
      'any',
    );
  },
  (dice) => {
    const id = identity(dice);
    const dataSet = Buffer.from(validDataSet(dice, id));
    for (let flips = dice.int(1, 8); flips > 0; flips -= 1)
      dataSet[dice.int(0, dataSet.length - 1)] ^= 1 << dice.int(0, 7);
    return storeCase(dice, 'data set bit flips', dataSet, id.sopInstanceUid, 'any');
  },

  // --- data sets in Implicit VR Little Endian (the context's only syntax)
  (dice) => {
    const id = identity(dice);
    const dataSet = validImplicitDataSet(dice, id);
    return storeCase(
      dice,
      'valid, Implicit VR (control)',
      dataSet,
      id.sopInstanceUid,
      'stored',
      IMPLICIT_VR_LE,
    );
  },
  (dice) => {
    const id = identity(dice);
    const whole = validImplicitDataSet(dice, id);
    const dataSet = Buffer.from(whole);
    // The Pixel Data's length (the last element's) made to run past the end.
    const pixelLength = dataSet.readUInt32LE(dataSet.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00])) + 4);
    dataSet.writeUInt32LE(
      pixelLength + 2 * dice.int(1, 100_000),
      dataSet.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00])) + 4,
    );
    return storeCase(
      dice,
      'Implicit VR, element length past the end',
      dataSet,
      id.sopInstanceUid,
      'refused',
      IMPLICIT_VR_LE,
    );
  },
  (dice) => {
    const id = identity(dice);
    const dataSet = Buffer.from(validImplicitDataSet(dice, id));
    for (let flips = dice.int(1, 8); flips > 0; flips -= 1)
      dataSet[dice.int(0, dataSet.length - 1)] ^= 1 << dice.int(0, 7);
    return storeCase(dice, 'Implicit VR, bit flips', dataSet, id.sopInstanceUid, 'any', IMPLICIT_VR_LE);
  },
  (dice) => {
    // Explicit VR bytes on an Implicit VR context: the VR and length read as one 32-bit length.
    const id = identity(dice);
    return storeCase(
      dice,
      'Explicit VR bytes on an Implicit VR context',
      validDataSet(dice, id),
      id.sopInstanceUid,
      'refused',
      IMPLICIT_VR_LE,
    );
  },

  // --- the association ends inside a data set
  (dice) => {
    const id = identity(dice);
    const dataSet = validDataSet(dice, id);
    const end = dice.pick(['A-RELEASE-RQ', 'A-ABORT', 'silence', 'hang-up']);
    const pdus = dataPdus(dataSet.subarray(0, dice.int(0, dataSet.length - 1)), 4000, 1, false);
    return {
      family: `data set incomplete, then ${end}`,
      bytes: [
        associate(),
        pData(1, 3, cStoreCommand(storeElements(id.sopInstanceUid))),
        ...pdus,
        ...(end === 'A-RELEASE-RQ' ? [encodeReleaseRq()] : end === 'A-ABORT' ? [encodeAbort()] : []),
      ],
      then: end === 'hang-up' ? 'hang-up' : 'wait',
      expect: 'refused',
      sopInstanceUid: id.sopInstanceUid,
    };
  },
];

export function drawCases(seed: number, count: number): FuzzCase[] {
  const dice = new Dice(seed);
  return Array.from({ length: count }, (_, index) => {
    const draft = dice.pick(FAMILIES)(dice);
    return {
      index,
      family: draft.family,
      writes: dice.split(Buffer.concat(draft.bytes)),
      then: draft.then ?? 'wait',
      expect: draft.expect,
      sopInstanceUid: draft.sopInstanceUid,
      dataSet: draft.dataSet,
    };
  });
}
