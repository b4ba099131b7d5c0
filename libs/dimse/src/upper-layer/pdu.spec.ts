import {
  decodeAbort,
  decodeAssociateAc,
  decodeAssociateRj,
  decodePDataTf,
  decodeRoleSelection,
  encodeAssociateRq,
  encodeRoleSelection,
  pDataHeader,
  PduFormatError,
} from './pdu';
import { PduReader } from './pdu-reader';

function item(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt8(type, 0);
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

describe('A-ASSOCIATE-RQ (PS3.8 9.3.2)', () => {
  const rq = encodeAssociateRq({
    callingAeTitle: 'PACSLINK',
    calledAeTitle: 'ORTHANC',
    maxPduLength: 65536,
    contexts: [
      { id: 1, abstractSyntaxUid: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxUids: ['1.2.840.10008.1.2.1'] },
      { id: 3, abstractSyntaxUid: '1.2.840.10008.5.1.4.1.1.7', transferSyntaxUids: ['1.2.840.10008.1.2'] },
    ],
  });

  it('has the PDU header, protocol version and space-padded AE titles in place', () => {
    expect(rq.readUInt8(0)).toBe(0x01);
    expect(rq.readUInt32BE(2)).toBe(rq.length - 6);
    expect(rq.readUInt16BE(6)).toBe(1);
    expect(rq.toString('latin1', 10, 26)).toBe('ORTHANC         ');
    expect(rq.toString('latin1', 26, 42)).toBe('PACSLINK        ');
  });

  it('carries the application context, one item per presentation context, and the max length', () => {
    const body = rq.subarray(6 + 68);
    const types: number[] = [];
    for (let offset = 0; offset < body.length; offset += 4 + body.readUInt16BE(offset + 2)) {
      types.push(body.readUInt8(offset));
    }
    expect(types).toEqual([0x10, 0x20, 0x20, 0x50]);
    expect(rq.includes(Buffer.from('1.2.840.10008.3.1.1.1'))).toBe(true);
    const maxLength = rq.indexOf(Buffer.from([0x51, 0x00, 0x00, 0x04]));
    expect(rq.readUInt32BE(maxLength + 4)).toBe(65536);
  });
});

describe('SCP/SCU Role Selection (PS3.7 D.3.3.4)', () => {
  const CT = '1.2.840.10008.5.1.4.1.1.2';

  it('encodes sub-item 0x54: UID length, UID (unpadded), SCU role, SCP role', () => {
    const encoded = encodeRoleSelection({ sopClassUid: CT, scuRole: false, scpRole: true });
    expect([...encoded.subarray(0, 6)]).toEqual([0x54, 0, 0, 2 + CT.length + 2, 0, CT.length]);
    expect(encoded.toString('latin1', 6, 6 + CT.length)).toBe(CT);
    expect([...encoded.subarray(6 + CT.length)]).toEqual([0, 1]);
  });

  it('puts one item per SOP class in the user information of the A-ASSOCIATE-RQ', () => {
    const rq = encodeAssociateRq({
      callingAeTitle: 'PACSLINK',
      calledAeTitle: 'ORTHANC',
      maxPduLength: 65536,
      contexts: [{ id: 1, abstractSyntaxUid: CT, transferSyntaxUids: ['1.2.840.10008.1.2.1'] }],
      roles: [
        { sopClassUid: CT, scuRole: false, scpRole: true },
        { sopClassUid: '1.2.840.10008.5.1.4.1.1.4', scuRole: false, scpRole: true },
      ],
    });
    const userInformation = rq.subarray(rq.lastIndexOf(Buffer.from([0x50, 0x00])));
    const subTypes: number[] = [];
    for (
      let offset = 4;
      offset < userInformation.length;
      offset += 4 + userInformation.readUInt16BE(offset + 2)
    ) {
      subTypes.push(userInformation.readUInt8(offset));
    }
    expect(subTypes).toEqual([0x51, 0x52, 0x55, 0x54, 0x54]);
  });

  it('reads the granted roles from the A-ASSOCIATE-AC; an answer without them has none', () => {
    const granted = encodeRoleSelection({ sopClassUid: CT, scuRole: false, scpRole: true });
    const refused = encodeRoleSelection({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      scuRole: true,
      scpRole: false,
    });
    const ac = (userInformation: Buffer): Buffer =>
      Buffer.concat([
        Buffer.alloc(68),
        item(0x10, Buffer.from('1.2.840.10008.3.1.1.1')),
        item(0x50, userInformation),
      ]);
    expect(decodeAssociateAc(ac(Buffer.concat([granted, refused]))).roles).toEqual([
      { sopClassUid: CT, scuRole: false, scpRole: true },
      { sopClassUid: '1.2.840.10008.5.1.4.1.1.7', scuRole: true, scpRole: false },
    ]);
    expect(decodeAssociateAc(ac(Buffer.alloc(0))).roles).toBeUndefined();
  });

  it('refuses a role item whose UID length does not fit it', () => {
    expect(() => decodeRoleSelection(Buffer.from([0, 9, 0x31, 0, 1]))).toThrow(PduFormatError);
    expect(decodeRoleSelection(Buffer.from([0, 2, 0x31, 0, 0, 1]))).toEqual({
      sopClassUid: '1',
      scuRole: false,
      scpRole: true,
    });
  });
});

describe('answers to the A-ASSOCIATE-RQ', () => {
  it('reads per-context results, transfer syntaxes (NUL padding dropped) and the max PDU length', () => {
    const maxLength = Buffer.alloc(4);
    maxLength.writeUInt32BE(16384, 0);
    const body = Buffer.concat([
      Buffer.alloc(68),
      item(0x10, Buffer.from('1.2.840.10008.3.1.1.1')),
      item(
        0x21,
        Buffer.concat([Buffer.from([1, 0, 0, 0]), item(0x40, Buffer.from('1.2.840.10008.1.2.1\0'))]),
      ),
      item(0x21, Buffer.concat([Buffer.from([3, 0, 4, 0]), item(0x40, Buffer.from('1.2.840.10008.1.2'))])),
      item(0x50, item(0x51, maxLength)),
    ]);
    expect(decodeAssociateAc(body)).toEqual({
      contexts: [
        { id: 1, result: 0, transferSyntaxUid: '1.2.840.10008.1.2.1' },
        { id: 3, result: 4, transferSyntaxUid: '1.2.840.10008.1.2' },
      ],
      maxPduLength: 16384,
    });
  });

  it('refuses a truncated A-ASSOCIATE-AC or an item that overruns it', () => {
    expect(() => decodeAssociateAc(Buffer.alloc(10))).toThrow(PduFormatError);
    const overrun = Buffer.concat([Buffer.alloc(68), Buffer.from([0x21, 0, 0, 40, 1, 0])]);
    expect(() => decodeAssociateAc(overrun)).toThrow('item 0x21 overruns A-ASSOCIATE-AC');
  });

  it('reads A-ASSOCIATE-RJ and A-ABORT', () => {
    expect(decodeAssociateRj(Buffer.from([0, 2, 3, 1]))).toEqual({ result: 2, source: 3, reason: 1 });
    expect(decodeAbort(Buffer.from([0, 0, 2, 6]))).toEqual({ source: 2, reason: 6 });
  });
});

describe('P-DATA-TF (PS3.8 9.3.5, E.2)', () => {
  it('a header for one PDV: PDU length = PDV item + 4, item length = data + 2', () => {
    const header = pDataHeader(5, 0x03, 100);
    expect([...header]).toEqual([0x04, 0, 0, 0, 0, 106, 0, 0, 0, 102, 5, 0x03]);
    const pdvs = decodePDataTf(Buffer.concat([header.subarray(6), Buffer.alloc(100, 7)]));
    expect(pdvs).toEqual([{ contextId: 5, control: 3, data: Buffer.alloc(100, 7) }]);
  });

  it('refuses a PDV whose length does not fit', () => {
    expect(() => decodePDataTf(Buffer.from([0, 0, 0, 50, 1, 3, 0]))).toThrow('PDV item length 50');
  });
});

describe('PduReader', () => {
  it('cuts PDUs across and within chunks, whatever the chunk boundaries', () => {
    const release = Buffer.from([0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    const abort = Buffer.from([0x07, 0, 0, 0, 0, 4, 0, 0, 2, 1]);
    const stream = Buffer.concat([release, abort, release]);
    for (let cut = 1; cut < stream.length; cut++) {
      const reader = new PduReader(1024);
      const pdus = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      expect(pdus.map((pdu) => pdu.type)).toEqual([0x06, 0x07, 0x06]);
      expect(pdus[1]?.body).toEqual(Buffer.from([0, 0, 2, 1]));
    }
  });

  it('copies a PDU that spans chunks once, and none of the next PDU with it', () => {
    const body = Buffer.alloc(256 * 1024, 7);
    const pDataTf = Buffer.concat([Buffer.from([0x04, 0, 0, 4, 0, 0]), body]);
    // The next PDU's first 60 KB arrive in the same socket chunk as this one's end.
    const stream = Buffer.concat([pDataTf, Buffer.from([0x04, 0, 0, 4, 0, 0]), body.subarray(0, 60_000)]);
    const concat = jest.spyOn(Buffer, 'concat');
    try {
      const reader = new PduReader(512 * 1024);
      const pdus = [];
      for (let offset = 0; offset < stream.length; offset += 64 * 1024) {
        pdus.push(...reader.push(stream.subarray(offset, offset + 64 * 1024)));
      }
      expect(pdus.map((pdu) => pdu.body.equals(body))).toEqual([true]);
      const copied = concat.mock.results.reduce((sum, result) => sum + (result.value as Buffer).length, 0);
      expect(copied).toBe(pDataTf.length);
    } finally {
      concat.mockRestore();
    }
  });

  it('refuses an unknown PDU type (an HTTP answer, say) and a PDU over the limit', () => {
    expect(() => new PduReader(1024).push(Buffer.from('HTTP/1.1 400 Bad Request'))).toThrow(
      'unknown PDU type 0x48',
    );
    expect(() => new PduReader(1024).push(Buffer.from([0x04, 0, 0, 0, 0x10, 0]))).toThrow(
      'PDU of 4096 bytes exceeds the 1024 bytes announced',
    );
  });
});
