import { decodeAssociateAc, encodeAssociateRq, PduFormatError } from './pdu';
import {
  AssociateRejects,
  decodeAssociateRq,
  encodeAssociateAc,
  encodeAssociateRj,
  encodeProviderAbort,
  encodeReleaseRp,
} from './pdu-acceptor';

function item(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt8(type, 0);
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** An A-ASSOCIATE-RQ body (no PDU header) built by hand from PS3.8 9.3.2. */
function rqBody(...variable: Buffer[]): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(1, 0);
  fixed.write('PACSLINK        ', 4, 'latin1');
  fixed.write('MODALITY1       ', 20, 'latin1');
  return Buffer.concat([fixed, ...variable]);
}

const APPLICATION_CONTEXT = item(0x10, Buffer.from('1.2.840.10008.3.1.1.1', 'latin1'));

describe('A-ASSOCIATE-RQ decoded by the acceptor (PS3.8 9.3.2)', () => {
  it('reads what a requestor proposes: AE titles trimmed, contexts in order, max PDU length', () => {
    const rq = encodeAssociateRq({
      callingAeTitle: 'MODALITY1',
      calledAeTitle: 'PACSLINK',
      maxPduLength: 16384,
      contexts: [
        {
          id: 1,
          abstractSyntaxUid: '1.2.840.10008.5.1.4.1.1.2',
          transferSyntaxUids: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'],
        },
        { id: 3, abstractSyntaxUid: '1.2.840.10008.1.1', transferSyntaxUids: ['1.2.840.10008.1.2'] },
      ],
    });
    expect(decodeAssociateRq(rq.subarray(6))).toMatchObject({
      calledAeTitle: 'PACSLINK',
      callingAeTitle: 'MODALITY1',
      applicationContextName: '1.2.840.10008.3.1.1.1',
      maxPduLength: 16384,
      contexts: [
        {
          id: 1,
          abstractSyntaxUid: '1.2.840.10008.5.1.4.1.1.2',
          transferSyntaxUids: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'],
        },
        { id: 3, abstractSyntaxUid: '1.2.840.10008.1.1', transferSyntaxUids: ['1.2.840.10008.1.2'] },
      ],
    });
  });

  it('takes NUL-padded UIDs and a request without user information (max PDU length 0: no limit)', () => {
    const context = item(
      0x20,
      Buffer.concat([
        Buffer.from([7, 0, 0, 0]),
        item(0x30, Buffer.from('1.2.840.10008.1.1\0', 'latin1')),
        item(0x40, Buffer.from('1.2.840.10008.1.2\0', 'latin1')),
      ]),
    );
    expect(decodeAssociateRq(rqBody(APPLICATION_CONTEXT, context))).toMatchObject({
      maxPduLength: 0,
      contexts: [
        { id: 7, abstractSyntaxUid: '1.2.840.10008.1.1', transferSyntaxUids: ['1.2.840.10008.1.2'] },
      ],
    });
  });

  it.each([
    ['a short fixed part', Buffer.alloc(20), /A-ASSOCIATE-RQ of 20 bytes is too short/],
    ['no application context', rqBody(), /no application context item/],
    [
      'an item that overruns the PDU',
      rqBody(Buffer.from([0x10, 0, 0, 40, 0x31])),
      /item 0x10 overruns A-ASSOCIATE-RQ/,
    ],
    [
      'a context without an abstract syntax',
      rqBody(APPLICATION_CONTEXT, item(0x20, Buffer.from([1, 0, 0, 0]))),
      /presentation context 1 has no abstract syntax sub-item/,
    ],
  ])('refuses %s, saying what is wrong', (_what, body, message) => {
    expect(() => decodeAssociateRq(body)).toThrow(PduFormatError);
    expect(() => decodeAssociateRq(body)).toThrow(message);
  });
});

describe('A-ASSOCIATE-AC/RJ, A-RELEASE-RP and A-ABORT encoded by the acceptor', () => {
  it('an A-ASSOCIATE-AC that a requestor reads: each context result, transfer syntax, our max PDU length', () => {
    const ac = encodeAssociateAc({
      calledAeTitle: 'PACSLINK',
      callingAeTitle: 'MODALITY1',
      maxPduLength: 262144,
      contexts: [
        { id: 1, result: 0, transferSyntaxUid: '1.2.840.10008.1.2.4.50' },
        { id: 3, result: 3 },
      ],
    });
    expect(ac.readUInt8(0)).toBe(0x02);
    expect(ac.readUInt32BE(2)).toBe(ac.length - 6);
    expect(ac.subarray(10, 42).toString('latin1')).toBe('PACSLINK        MODALITY1       ');
    expect(decodeAssociateAc(ac.subarray(6))).toEqual({
      maxPduLength: 262144,
      contexts: [
        { id: 1, result: 0, transferSyntaxUid: '1.2.840.10008.1.2.4.50' },
        // Table 9-18: the sub-item is there for a refused context too; its value is not tested.
        { id: 3, result: 3, transferSyntaxUid: '1.2.840.10008.1.2' },
      ],
    });
  });

  it('A-ASSOCIATE-RJ with result, source and reason (Table 9-21)', () => {
    expect([...encodeAssociateRj(AssociateRejects.callingAeTitleNotRecognized)]).toEqual([
      0x03, 0, 0, 0, 0, 4, 0, 1, 1, 3,
    ]);
    expect([...encodeAssociateRj(AssociateRejects.localLimitExceeded)].slice(6)).toEqual([0, 2, 3, 2]);
  });

  it('A-RELEASE-RP and a provider A-ABORT', () => {
    expect([...encodeReleaseRp()]).toEqual([0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    expect([...encodeProviderAbort(2)]).toEqual([0x07, 0, 0, 0, 0, 4, 0, 0, 2, 2]);
  });
});
