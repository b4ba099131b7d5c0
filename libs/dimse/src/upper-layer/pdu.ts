import { uidText } from '@pacslink/dicom';
import type { AbortInfo, AssociateReject } from '../protocol/association-reject';

/**
 * The DICOM Upper Layer PDUs a C-STORE SCU needs (PS3.8 9.3), encoded and decoded from bytes.
 * Every PDU is a 6-byte header (type, reserved, 32-bit big-endian length) and a body.
 */
export const PduType = Object.freeze({
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PDataTf: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const);

export const PDU_HEADER_LENGTH = 6;
/** PDV item: 4-byte length, presentation context ID, message control header (PS3.8 9.3.5.1) */
export const PDV_HEADER_LENGTH = 6;
/** PS3.7 Annex A.2.1 */
/** PS3.7 Annex A.2.1: the only application context name DICOM defines. */
export const DICOM_APPLICATION_CONTEXT_NAME = '1.2.840.10008.3.1.1.1';
/** Our implementation class UID (PS3.7 D.3.3.2), a 2.25 UUID-derived root. */
export const IMPLEMENTATION_CLASS_UID = '2.25.152884919471335812046563905451532386977';
export const IMPLEMENTATION_VERSION_NAME = 'PACSLINK_1';

export interface ProposedPresentationContext {
  /** odd, 1..255 (PS3.8 9.3.2.2) */
  id: number;
  abstractSyntaxUid: string;
  transferSyntaxUids: readonly string[];
}

/**
 * SCP/SCU Role Selection (PS3.7 D.3.3.4), one per SOP class. Proposed: the roles we want to play;
 * answered: the roles the acceptor grants. Without an answer item the default roles hold: the
 * requestor is SCU only, so a C-GET's C-STORE sub-operations (we are their SCP) need `scpRole`.
 */
export interface RoleSelection {
  sopClassUid: string;
  scuRole: boolean;
  scpRole: boolean;
}

export interface AssociateRequest {
  callingAeTitle: string;
  calledAeTitle: string;
  contexts: readonly ProposedPresentationContext[];
  /** the largest P-DATA-TF PDU body we accept */
  maxPduLength: number;
  roles?: readonly RoleSelection[];
}

export interface AcceptedPresentationContext {
  id: number;
  /** PS3.8 Table 9-18: 0 acceptance, 1 user rejection, 2 no reason, 3 abstract syntax not supported, 4 transfer syntaxes not supported */
  result: number;
  transferSyntaxUid?: string;
}

export interface AssociateAccept {
  contexts: readonly AcceptedPresentationContext[];
  /** the largest P-DATA-TF PDU body the peer accepts; 0 means no limit (PS3.8 D.1) */
  maxPduLength: number;
  /** the role selection items of the answer, when it has any (PS3.7 D.3.3.4) */
  roles?: readonly RoleSelection[];
}

/** A PDU: type, reserved, 32-bit length, body (PS3.8 9.3.1). Shared with pdu-acceptor.ts. */
export function pdu(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(PDU_HEADER_LENGTH);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** A variable item: type, reserved, 16-bit length, body (PS3.8 9.3.2.2). */
export function item(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt8(type, 0);
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** An AE title field of the fixed part: 16 bytes, space-padded. */
export function aeTitleField(title: string): Buffer {
  return Buffer.from(title.padEnd(16, ' ').slice(0, 16), 'latin1');
}

/** Role selection sub-item 0x54: UID length, UID, SCU role, SCP role (PS3.7 D.3.3.4.1). */
export function encodeRoleSelection(role: RoleSelection): Buffer {
  const uid = Buffer.from(role.sopClassUid, 'latin1');
  const uidLength = Buffer.alloc(2);
  uidLength.writeUInt16BE(uid.length, 0);
  return item(
    0x54,
    Buffer.concat([uidLength, uid, Buffer.from([role.scuRole ? 1 : 0, role.scpRole ? 1 : 0])]),
  );
}

export function decodeRoleSelection(body: Buffer): RoleSelection {
  if (body.length < 2) throw new PduFormatError('role selection sub-item too short');
  const uidLength = body.readUInt16BE(0);
  if (body.length !== 2 + uidLength + 2) {
    throw new PduFormatError(`role selection sub-item of ${body.length} bytes for a UID of ${uidLength}`);
  }
  return {
    sopClassUid: uidText(body.subarray(2, 2 + uidLength)),
    scuRole: body.readUInt8(2 + uidLength) === 1,
    scpRole: body.readUInt8(3 + uidLength) === 1,
  };
}

export function encodeAssociateRq(request: AssociateRequest): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(0x0001, 0); // protocol version
  aeTitleField(request.calledAeTitle).copy(fixed, 4);
  aeTitleField(request.callingAeTitle).copy(fixed, 20);
  const contexts = request.contexts.map((context) => {
    const head = Buffer.from([context.id, 0, 0, 0]);
    return item(
      0x20,
      Buffer.concat([
        head,
        item(0x30, Buffer.from(context.abstractSyntaxUid, 'latin1')),
        ...context.transferSyntaxUids.map((uid) => item(0x40, Buffer.from(uid, 'latin1'))),
      ]),
    );
  });
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(request.maxPduLength, 0);
  const userInformation = item(
    0x50,
    Buffer.concat([
      item(0x51, maxLength),
      item(0x52, Buffer.from(IMPLEMENTATION_CLASS_UID, 'latin1')),
      item(0x55, Buffer.from(IMPLEMENTATION_VERSION_NAME, 'latin1')),
      // after the version name, where DCMTK writes them
      ...(request.roles ?? []).map(encodeRoleSelection),
    ]),
  );
  return pdu(
    PduType.AssociateRq,
    Buffer.concat([
      fixed,
      item(0x10, Buffer.from(DICOM_APPLICATION_CONTEXT_NAME, 'latin1')),
      ...contexts,
      userInformation,
    ]),
  );
}

/** Thrown for a PDU that does not follow PS3.8; the message says what is wrong. */
export class PduFormatError extends Error {
  override readonly name = 'PduFormatError';
}

export interface RawItem {
  type: number;
  body: Buffer;
}

export function readItems(bytes: Buffer, what: string): RawItem[] {
  const items: RawItem[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) throw new PduFormatError(`truncated item header in ${what}`);
    const type = bytes.readUInt8(offset);
    const length = bytes.readUInt16BE(offset + 2);
    const end = offset + 4 + length;
    if (end > bytes.length) throw new PduFormatError(`item 0x${type.toString(16)} overruns ${what}`);
    items.push({ type, body: bytes.subarray(offset + 4, end) });
    offset = end;
  }
  return items;
}

/** PS3.8 9.3.3: the fixed part (68 bytes) is not checked; the peer's AE titles are informative. */
export function decodeAssociateAc(body: Buffer): AssociateAccept {
  if (body.length < 68) throw new PduFormatError(`A-ASSOCIATE-AC of ${body.length} bytes is too short`);
  const contexts: AcceptedPresentationContext[] = [];
  const roles: RoleSelection[] = [];
  let maxPduLength = 0;
  for (const variable of readItems(body.subarray(68), 'A-ASSOCIATE-AC')) {
    if (variable.type === 0x21) {
      if (variable.body.length < 4) throw new PduFormatError('presentation context item too short');
      const transferSyntax = readItems(variable.body.subarray(4), 'presentation context').find(
        (sub) => sub.type === 0x40,
      );
      contexts.push({
        id: variable.body.readUInt8(0),
        result: variable.body.readUInt8(2),
        ...(transferSyntax === undefined ? {} : { transferSyntaxUid: uidText(transferSyntax.body) }),
      });
    } else if (variable.type === 0x50) {
      for (const sub of readItems(variable.body, 'user information')) {
        if (sub.type === 0x51 && sub.body.length === 4) maxPduLength = sub.body.readUInt32BE(0);
        else if (sub.type === 0x54) roles.push(decodeRoleSelection(sub.body));
      }
    }
  }
  return { contexts, maxPduLength, ...(roles.length === 0 ? {} : { roles }) };
}

export function decodeAssociateRj(body: Buffer): AssociateReject {
  if (body.length < 4) throw new PduFormatError(`A-ASSOCIATE-RJ of ${body.length} bytes is too short`);
  return { result: body.readUInt8(1), source: body.readUInt8(2), reason: body.readUInt8(3) };
}

export function decodeAbort(body: Buffer): AbortInfo {
  if (body.length < 4) throw new PduFormatError(`A-ABORT of ${body.length} bytes is too short`);
  return { source: body.readUInt8(2), reason: body.readUInt8(3) };
}

/** A-ABORT from the service user (source 0, PS3.8 9.3.8). */
export function encodeAbort(): Buffer {
  return pdu(PduType.Abort, Buffer.alloc(4));
}

export function encodeReleaseRq(): Buffer {
  return pdu(PduType.ReleaseRq, Buffer.alloc(4));
}

/** PS3.8 E.2: bit 0 set = command, bit 1 set = last fragment. */
export const PdvControl = Object.freeze({
  Command: 0x01,
  Last: 0x02,
} as const);

/**
 * The 12 bytes in front of a P-DATA-TF PDU that carries exactly one PDV of `dataLength` bytes:
 * the PDU header and the PDV item header. The data goes out as its own buffer, uncopied.
 */
export function pDataHeader(contextId: number, control: number, dataLength: number): Buffer {
  const header = Buffer.allocUnsafe(PDU_HEADER_LENGTH + PDV_HEADER_LENGTH);
  header.writeUInt8(PduType.PDataTf, 0);
  header.writeUInt8(0, 1);
  header.writeUInt32BE(PDV_HEADER_LENGTH + dataLength, 2);
  header.writeUInt32BE(dataLength + 2, 6);
  header.writeUInt8(contextId, 10);
  header.writeUInt8(control, 11);
  return header;
}

export interface Pdv {
  contextId: number;
  control: number;
  data: Buffer;
}

export function decodePDataTf(body: Buffer): Pdv[] {
  const pdvs: Pdv[] = [];
  let offset = 0;
  while (offset < body.length) {
    if (offset + PDV_HEADER_LENGTH > body.length) throw new PduFormatError('truncated PDV item header');
    const length = body.readUInt32BE(offset);
    if (length < 2 || offset + 4 + length > body.length) {
      throw new PduFormatError(`PDV item length ${length} does not fit its P-DATA-TF`);
    }
    pdvs.push({
      contextId: body.readUInt8(offset + 4),
      control: body.readUInt8(offset + 5),
      data: body.subarray(offset + 6, offset + 4 + length),
    });
    offset += 4 + length;
  }
  return pdvs;
}
