import {
  CommandField,
  decodeCommand,
  encodeCCancelRq,
  encodeCEchoRq,
  encodeCFindRq,
  encodeCStoreRq,
} from './command-set';
import { parseMetaHeader } from './part10-file';
import { groupByContexts, proposeContexts } from './presentation-contexts';

function explicitElement(element: number, vr: string, value: string): Buffer {
  const bytes = Buffer.from(value.length % 2 === 0 ? value : `${value}\0`, 'latin1');
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0x0002, 0);
  header.writeUInt16LE(element, 2);
  header.write(vr, 4, 'latin1');
  header.writeUInt16LE(bytes.length, 6);
  return Buffer.concat([header, bytes]);
}

function part10Head(elements: Buffer[], dataset = Buffer.from([0x08, 0x00, 0x16, 0x00])): Buffer {
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), ...elements, dataset]);
}

describe('C-STORE-RQ command set (PS3.7 9.3.1.1)', () => {
  const bytes = encodeCStoreRq({
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    sopInstanceUid: '1.2.3',
    messageId: 7,
    priority: 2,
  });

  it('starts with a group length that counts every other element', () => {
    expect(bytes.readUInt32LE(0)).toBe(0x00000000);
    expect(bytes.readUInt32LE(4)).toBe(4);
    expect(bytes.readUInt32LE(8)).toBe(bytes.length - 12);
  });

  it('pads odd UIDs with a NUL and reads back as a C-STORE-RQ', () => {
    expect(bytes.includes(Buffer.from('1.2.3\0', 'latin1'))).toBe(true);
    expect(decodeCommand(bytes)).toEqual({
      commandField: CommandField.CStoreRq,
      affectedSopInstanceUid: '1.2.3',
      dataSetPresent: true,
    });
  });

  it('reads status, error comment and the message answered from a response', () => {
    const response = Buffer.concat([
      element(0x0100, Buffer.from([0x01, 0x80])),
      element(0x0120, Buffer.from([7, 0])),
      element(0x0900, Buffer.from([0x00, 0xa7])),
      element(0x0902, Buffer.from('disk full ', 'latin1')),
    ]);
    expect(decodeCommand(response)).toEqual({
      commandField: CommandField.CStoreRsp,
      messageIdBeingRespondedTo: 7,
      status: 0xa700,
      errorComment: 'disk full',
      dataSetPresent: false,
    });
  });

  it('encodes C-ECHO-RQ and C-CANCEL-RQ without a data set, C-FIND-RQ with one (PS3.7 E.1)', () => {
    const echo = encodeCEchoRq({ sopClassUid: '1.2.840.10008.1.1', messageId: 3 });
    expect(decodeCommand(echo)).toEqual({ commandField: CommandField.CEchoRq, dataSetPresent: false });
    const find = encodeCFindRq({ sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1', messageId: 4, priority: 2 });
    expect(decodeCommand(find)).toEqual({ commandField: CommandField.CFindRq, dataSetPresent: true });
    expect(find.readUInt32LE(8)).toBe(find.length - 12);
    const cancel = encodeCCancelRq({ messageIdBeingRespondedTo: 4 });
    expect(decodeCommand(cancel)).toEqual({
      commandField: CommandField.CCancelRq,
      messageIdBeingRespondedTo: 4,
      dataSetPresent: false,
    });
  });

  it('refuses a command set that is not group 0000 or runs past its end', () => {
    expect(() => decodeCommand(Buffer.from([0x08, 0, 0x16, 0, 2, 0, 0, 0, 0, 0]))).toThrow(
      'malformed command set',
    );
    expect(() => decodeCommand(element(0x0110, Buffer.from([1, 0])))).toThrow('no (0000,0100) CommandField');
  });

  function element(number: number, value: Buffer): Buffer {
    const header = Buffer.alloc(8);
    header.writeUInt16LE(number, 2);
    header.writeUInt32LE(value.length, 4);
    return Buffer.concat([header, value]);
  }
});

describe('Part 10 file meta information (PS3.10 7.1)', () => {
  const meta = [
    explicitElement(0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
    explicitElement(0x0003, 'UI', '1.2.3.4'),
    explicitElement(0x0010, 'UI', '1.2.840.10008.1.2.1'),
  ];

  it('finds the UIDs and where the data set starts', () => {
    const head = part10Head(meta);
    expect(parseMetaHeader(head, head.length)).toEqual({
      meta: {
        sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
        sopInstanceUid: '1.2.3.4',
        transferSyntaxUid: '1.2.840.10008.1.2.1',
      },
      datasetOffset: head.length - 4,
    });
  });

  it('says what is wrong with a file it cannot send', () => {
    expect(parseMetaHeader(Buffer.alloc(200), 200)).toEqual({
      reason: 'not a DICOM Part 10 file: no "DICM" after the 128-byte preamble (PS3.10 7.1)',
    });
    const noSyntax = part10Head(meta.slice(0, 2));
    expect(parseMetaHeader(noSyntax, noSyntax.length)).toEqual({
      reason: 'the file meta information lacks (0002,0010) TransferSyntaxUID (PS3.10 7.1)',
    });
    const cut = part10Head(meta).subarray(0, 150);
    expect(parseMetaHeader(cut, 100_000)).toEqual({
      reason: 'file meta information continues past the first 150 bytes read',
    });
  });
});

describe('presentation contexts', () => {
  const ct = '1.2.840.10008.5.1.4.1.1.2';
  const mr = '1.2.840.10008.5.1.4.1.1.4';
  const explicit = '1.2.840.10008.1.2.1';
  const jpeg = '1.2.840.10008.1.2.4.50';

  it('one context per (SOP class, transfer syntax) pair, odd IDs, the stored syntax only', () => {
    const { contexts, contextIdOf } = proposeContexts([
      { sopClassUid: ct, transferSyntaxUid: explicit },
      { sopClassUid: ct, transferSyntaxUid: jpeg },
      { sopClassUid: ct, transferSyntaxUid: explicit },
      { sopClassUid: mr, transferSyntaxUid: explicit },
    ]);
    expect(contexts).toEqual([
      { id: 1, abstractSyntaxUid: ct, transferSyntaxUids: [explicit] },
      { id: 3, abstractSyntaxUid: ct, transferSyntaxUids: [jpeg] },
      { id: 5, abstractSyntaxUid: mr, transferSyntaxUids: [explicit] },
    ]);
    expect(contextIdOf({ sopClassUid: mr, transferSyntaxUid: explicit })).toBe(5);
  });

  it('more pairs than fit in one association: groups of at most the limit, input order kept', () => {
    const pairs = [ct, mr, ct, '1.2.3', mr, '1.2.4'].map((sopClassUid) => ({
      sopClassUid,
      transferSyntaxUid: explicit,
    }));
    expect(groupByContexts(pairs, 2)).toEqual([
      [0, 1, 2, 4],
      [3, 5],
    ]);
    expect(groupByContexts(pairs)).toEqual([[0, 1, 2, 3, 4, 5]]);
  });

  it('128 pairs fit one association; IDs stop at 255', () => {
    const pairs = Array.from({ length: 129 }, (_, index) => ({
      sopClassUid: `1.2.${index}`,
      transferSyntaxUid: explicit,
    }));
    expect(groupByContexts(pairs).map((group) => group.length)).toEqual([128, 1]);
    expect(proposeContexts(pairs.slice(0, 128)).contexts.at(-1)?.id).toBe(255);
    expect(() => proposeContexts(pairs)).toThrow('more than 128 presentation contexts');
  });
});
