import { decodeCommand, encodeCStoreRq } from '../store/command-set';
import { CommandSetError, decodeRequestCommand, encodeResponseCommand } from './scp-commands';
import { CommandField } from '../store/command-set';

function element(elementNumber: number, value: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(elementNumber, 2);
  header.writeUInt32LE(value.length, 4);
  return Buffer.concat([header, value]);
}

function us(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(value, 0);
  return bytes;
}

describe('request command sets (PS3.7 9.3.1.1, 9.3.5.1)', () => {
  it('reads a C-STORE-RQ: SOP class and instance, message ID, a data set follows', () => {
    const rq = encodeCStoreRq({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      sopInstanceUid: '1.2.3.4.5',
      messageId: 17,
      priority: 0,
    });
    expect(decodeRequestCommand(rq)).toEqual({
      commandField: CommandField.CStoreRq,
      messageId: 17,
      affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      affectedSopInstanceUid: '1.2.3.4.5',
      hasDataSet: true,
    });
  });

  it('reads the Move Originator AE Title and Message ID of a C-MOVE sub-operation (PS3.7 9.3.1.1)', () => {
    const rq = Buffer.concat([
      element(0x0002, Buffer.from('1.2.840.10008.5.1.4.1.1.2\0', 'latin1')),
      element(0x0100, us(CommandField.CStoreRq)),
      element(0x0110, us(3)),
      element(0x0700, us(0)),
      element(0x0800, us(0)),
      element(0x1000, Buffer.from('1.2.3.4', 'latin1')),
      element(0x1030, Buffer.from('MOVESCU ', 'latin1')),
      element(0x1031, us(41)),
    ]);
    expect(decodeRequestCommand(rq)).toMatchObject({
      affectedSopInstanceUid: '1.2.3.4',
      moveOriginatorAeTitle: 'MOVESCU',
      moveOriginatorMessageId: 41,
    });
  });

  it.each([
    ['17 characters', 'ABCDEFGHIJKLMNOPQ'],
    ['a control character', 'MOVE\nSCU'],
    ['a backslash', 'MOVE\\SCU'],
    ['non-ASCII', 'MOVÉSCU'],
  ])(
    'drops a Move Originator AE Title that is not an AE title (%s): the report naming it would be refused',
    (_case, aeTitle) => {
      const rq = Buffer.concat([
        element(0x0002, Buffer.from('1.2.840.10008.5.1.4.1.1.2\0', 'latin1')),
        element(0x0100, us(CommandField.CStoreRq)),
        element(0x0110, us(3)),
        element(0x0700, us(0)),
        element(0x0800, us(0)),
        element(0x1000, Buffer.from('1.2.3.4', 'latin1')),
        element(0x1030, Buffer.from(aeTitle, 'latin1')),
        element(0x1031, us(41)),
      ]);
      const decoded = decodeRequestCommand(rq);
      expect(decoded.moveOriginatorAeTitle).toBeUndefined();
      expect(decoded).toMatchObject({ affectedSopInstanceUid: '1.2.3.4', moveOriginatorMessageId: 41 });
    },
  );

  it('reads a C-ECHO-RQ (no data set: 0x0101)', () => {
    const rq = Buffer.concat([
      element(0x0002, Buffer.from('1.2.840.10008.1.1\0', 'latin1')),
      element(0x0100, us(0x0030)),
      element(0x0110, us(1)),
      element(0x0800, us(0x0101)),
    ]);
    expect(decodeRequestCommand(rq)).toMatchObject({ commandField: 0x0030, messageId: 1, hasDataSet: false });
  });

  it.each([
    [
      'no CommandField',
      Buffer.concat([element(0x0110, us(1)), element(0x0800, us(0x0101))]),
      /no|without \(0000,0100\)/,
    ],
    [
      'no MessageID',
      Buffer.concat([element(0x0100, us(0x30)), element(0x0800, us(0x0101))]),
      /without \(0000,0110\) MessageID/,
    ],
    [
      'an element past the end',
      element(0x0100, us(0x30)).subarray(0, 9),
      /malformed command set: element \(0000,0100\) at byte 0/,
    ],
    [
      'a CommandField of 4 bytes',
      element(0x0100, Buffer.alloc(4)),
      /\(0000,0100\) CommandField is 4 bytes, not 2/,
    ],
  ])('refuses a command set with %s', (_what, bytes, message) => {
    expect(() => decodeRequestCommand(bytes)).toThrow(CommandSetError);
    expect(() => decodeRequestCommand(bytes)).toThrow(message);
  });
});

describe('response command sets (PS3.7 9.3.1.2, 9.3.5.2)', () => {
  it('a C-STORE-RSP a requestor reads: status, instance, a reason cut to 64 printable characters', () => {
    const rsp = encodeResponseCommand({
      commandField: CommandField.CStoreRsp,
      messageIdBeingRespondedTo: 17,
      affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      affectedSopInstanceUid: '1.2.3.4.5',
      status: 0xa700,
      errorComment: `not stored: ENOSPC \u00e9 ${'x'.repeat(80)}`,
    });
    const decoded = decodeCommand(rsp);
    expect(decoded).toMatchObject({
      commandField: 0x8001,
      messageIdBeingRespondedTo: 17,
      status: 0xa700,
      affectedSopInstanceUid: '1.2.3.4.5',
    });
    expect(decoded.errorComment).toHaveLength(64);
    expect(decoded.errorComment).toMatch(/^not stored: ENOSPC \? x+$/);
    // (0000,0000) CommandGroupLength counts every byte after it.
    expect(rsp.readUInt32LE(8)).toBe(rsp.length - 12);
  });
});
