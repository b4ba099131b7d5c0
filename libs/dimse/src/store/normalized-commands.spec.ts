import { CommandField, decodeCommand, encodeNCreateRq, encodeNSetRq } from './command-set';

// Expected command sets are written out here element by element (Implicit VR LE, PS3.7 E.1).
function el(element: number, value: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0x0000, 0);
  header.writeUInt16LE(element, 2);
  header.writeUInt32LE(value.length, 4);
  return Buffer.concat([header, value]);
}
const us = (value: number): Buffer => Buffer.from([value & 0xff, value >> 8]);
const text = (value: string): Buffer => Buffer.from(value, 'latin1');
const withGroupLength = (...elements: Buffer[]): Buffer => {
  const body = Buffer.concat(elements);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length, 0);
  return Buffer.concat([el(0x0000, length), body]);
};

const MPPS = '1.2.840.10008.3.1.2.3.3';

describe('N-CREATE and N-SET command sets (PS3.7 10.3)', () => {
  it('N-CREATE-RQ: Affected SOP Class and Instance UID, a data set following (Table 10.3-9)', () => {
    expect(
      encodeNCreateRq({ sopClassUid: MPPS, sopInstanceUid: '1.2.3', messageId: 5, withAttributeList: true }),
    ).toEqual(
      withGroupLength(
        el(0x0002, text('1.2.840.10008.3.1.2.3.3\0')),
        el(0x0100, us(0x0140)),
        el(0x0110, us(5)),
        el(0x0800, us(0x0000)),
        el(0x1000, text('1.2.3\0')),
      ),
    );
  });

  it('N-CREATE-RQ without an Attribute List says no data set follows (PS3.7 E.1)', () => {
    const bytes = encodeNCreateRq({
      sopClassUid: MPPS,
      sopInstanceUid: '1.2.3',
      messageId: 5,
      withAttributeList: false,
    });
    expect(decodeCommand(bytes)).toMatchObject({ commandField: 0x0140, dataSetPresent: false });
  });

  it('N-SET-RQ: Requested SOP Class and Instance UID, a data set following (Table 10.3-5)', () => {
    expect(encodeNSetRq({ sopClassUid: MPPS, sopInstanceUid: '1.2.34', messageId: 9 })).toEqual(
      withGroupLength(
        el(0x0003, text('1.2.840.10008.3.1.2.3.3\0')),
        el(0x0100, us(0x0120)),
        el(0x0110, us(9)),
        el(0x0800, us(0x0000)),
        el(0x1001, text('1.2.34')),
      ),
    );
  });

  it('reads an N-CREATE-RSP: status, Error Comment, the instance and the attributes it names', () => {
    const response = withGroupLength(
      el(0x0002, text('1.2.840.10008.3.1.2.3.3\0')),
      el(0x0100, us(CommandField.NCreateRsp)),
      el(0x0120, us(5)),
      el(0x0800, us(0x0101)),
      el(0x0900, us(0x0120)),
      el(0x0901, Buffer.from([0x40, 0x00, 0x70, 0x02])),
      el(0x0902, text('Scheduled Step Attributes missing ')),
      el(0x1000, text('1.2.3\0')),
      el(0x1005, Buffer.from([0x10, 0x00, 0x10, 0x00, 0x40, 0x00, 0x52, 0x02])),
    );
    expect(decodeCommand(response)).toEqual({
      commandField: 0x8140,
      messageIdBeingRespondedTo: 5,
      dataSetPresent: false,
      status: 0x0120,
      offendingElements: ['00400270'],
      errorComment: 'Scheduled Step Attributes missing',
      affectedSopInstanceUid: '1.2.3',
      attributeIdentifiers: ['00100010', '00400252'],
    });
  });
});
