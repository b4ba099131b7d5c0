import { uidText } from '@pacslink/dicom';
import type { AssociateReject } from '../protocol/association-reject';
import {
  DICOM_APPLICATION_CONTEXT_NAME,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
  PduFormatError,
  PduType,
  aeTitleField,
  item,
  pdu,
  readItems,
  type AcceptedPresentationContext,
  type ProposedPresentationContext,
} from './pdu';

/**
 * The acceptor's side of PS3.8 9.3: A-ASSOCIATE-RQ decoded, A-ASSOCIATE-AC/RJ and A-RELEASE-RP
 * encoded. The requestor's PDUs stay in `pdu.ts`.
 */

export interface ReceivedAssociateRequest {
  /** Trimmed of the padding spaces (PS3.8 9.3.2: 16 bytes, space padded). */
  calledAeTitle: string;
  callingAeTitle: string;
  applicationContextName: string;
  contexts: ProposedPresentationContext[];
  /** the largest P-DATA-TF PDU body the requestor accepts; 0 means no limit (PS3.8 D.1) */
  maxPduLength: number;
  implementationClassUid?: string;
  implementationVersionName?: string;
}

export interface AssociateAcceptToSend {
  calledAeTitle: string;
  callingAeTitle: string;
  contexts: readonly AcceptedPresentationContext[];
  /** the largest P-DATA-TF PDU body we accept */
  maxPduLength: number;
}

function aeTitle(bytes: Buffer): string {
  return bytes.toString('latin1').trim();
}

/** PS3.8 9.3.2: a 68-byte fixed part (version, AE titles), then the variable items. */
export function decodeAssociateRq(body: Buffer): ReceivedAssociateRequest {
  if (body.length < 68) throw new PduFormatError(`A-ASSOCIATE-RQ of ${body.length} bytes is too short`);
  const request: ReceivedAssociateRequest = {
    calledAeTitle: aeTitle(body.subarray(4, 20)),
    callingAeTitle: aeTitle(body.subarray(20, 36)),
    applicationContextName: '',
    contexts: [],
    maxPduLength: 0,
  };
  for (const variable of readItems(body.subarray(68), 'A-ASSOCIATE-RQ')) {
    switch (variable.type) {
      case 0x10:
        request.applicationContextName = uidText(variable.body);
        break;
      case 0x20: {
        if (variable.body.length < 4) throw new PduFormatError('presentation context item too short');
        const subItems = readItems(variable.body.subarray(4), 'presentation context');
        const abstractSyntax = subItems.find((sub) => sub.type === 0x30);
        if (abstractSyntax === undefined) {
          throw new PduFormatError(
            `presentation context ${variable.body.readUInt8(0)} has no abstract syntax sub-item`,
          );
        }
        request.contexts.push({
          id: variable.body.readUInt8(0),
          abstractSyntaxUid: uidText(abstractSyntax.body),
          transferSyntaxUids: subItems.filter((sub) => sub.type === 0x40).map((sub) => uidText(sub.body)),
        });
        break;
      }
      case 0x50:
        for (const sub of readItems(variable.body, 'user information')) {
          if (sub.type === 0x51 && sub.body.length === 4) request.maxPduLength = sub.body.readUInt32BE(0);
          else if (sub.type === 0x52) request.implementationClassUid = uidText(sub.body);
          else if (sub.type === 0x55) request.implementationVersionName = uidText(sub.body);
        }
        break;
    }
  }
  if (request.applicationContextName === '') {
    throw new PduFormatError('A-ASSOCIATE-RQ has no application context item');
  }
  return request;
}

/**
 * PS3.8 9.3.3. The AE titles echo the request's (9.3.3.2: "shall be the same as ... in the
 * A-ASSOCIATE-RQ"). A context that is not accepted still carries a transfer syntax sub-item, whose
 * value "shall not be tested" (Table 9-18); some requestors choke on a context item without one.
 */
export function encodeAssociateAc(accept: AssociateAcceptToSend): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(0x0001, 0);
  aeTitleField(accept.calledAeTitle).copy(fixed, 4);
  aeTitleField(accept.callingAeTitle).copy(fixed, 20);
  const contexts = accept.contexts.map((context) =>
    item(
      0x21,
      Buffer.concat([
        Buffer.from([context.id, 0, context.result, 0]),
        item(0x40, Buffer.from(context.transferSyntaxUid ?? '1.2.840.10008.1.2', 'latin1')),
      ]),
    ),
  );
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(accept.maxPduLength, 0);
  const userInformation = item(
    0x50,
    Buffer.concat([
      item(0x51, maxLength),
      item(0x52, Buffer.from(IMPLEMENTATION_CLASS_UID, 'latin1')),
      item(0x55, Buffer.from(IMPLEMENTATION_VERSION_NAME, 'latin1')),
    ]),
  );
  return pdu(
    PduType.AssociateAc,
    Buffer.concat([
      fixed,
      item(0x10, Buffer.from(DICOM_APPLICATION_CONTEXT_NAME, 'latin1')),
      ...contexts,
      userInformation,
    ]),
  );
}

/** PS3.8 9.3.4, Table 9-21. */
export function encodeAssociateRj(reject: AssociateReject): Buffer {
  return pdu(PduType.AssociateRj, Buffer.from([0, reject.result, reject.source, reject.reason]));
}

export function encodeReleaseRp(): Buffer {
  return pdu(PduType.ReleaseRp, Buffer.alloc(4));
}

/** A-ABORT from the service provider (source 2) with a reason of Table 9-26 (e.g. 2 unexpected PDU). */
export function encodeProviderAbort(reason: number): Buffer {
  return pdu(PduType.Abort, Buffer.from([0, 0, 2, reason]));
}

/** Table 9-21 reasons the acceptor gives. */
export const AssociateRejects = Object.freeze({
  applicationContextNotSupported: { result: 1, source: 1, reason: 2 },
  callingAeTitleNotRecognized: { result: 1, source: 1, reason: 3 },
  calledAeTitleNotRecognized: { result: 1, source: 1, reason: 7 },
  /** transient: the same request may succeed once an association ends */
  localLimitExceeded: { result: 2, source: 3, reason: 2 },
  /** transient: a failure on our side (the allowlist could not be learnt), not the caller's */
  temporaryCongestion: { result: 2, source: 3, reason: 1 },
} as const satisfies Record<string, AssociateReject>);
