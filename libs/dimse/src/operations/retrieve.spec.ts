import { encodeDataset, parseDataset } from '@pacslink/dicom';
import {
  DimseErrorCode,
  isTransientDimseError,
  isUnreachableDimseError,
  toDimseError,
  type FailureContext,
} from '../dimse.errors';
import { CommandField, decodeCommand, encodeCGetRq, encodeCMoveRq } from '../store/command-set';
import { get } from './get.operation';
import { buildRetrieveIdentifier } from './retrieve';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const GET = '1.2.840.10008.5.1.4.1.2.2.3';
const MOVE = '1.2.840.10008.5.1.4.1.2.2.2';

/** One Implicit VR LE element of group `group`. */
function element(group: number, number: number, value: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(number, 2);
  header.writeUInt32LE(value.length, 4);
  return Buffer.concat([header, value]);
}

function us(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(value, 0);
  return bytes;
}

/** The elements of a command set by element number (group 0000), values as hex. */
function elementsOf(bytes: Buffer): Record<string, string> {
  const found: Record<string, string> = {};
  for (let offset = 0; offset < bytes.length;) {
    const length = bytes.readUInt32LE(offset + 4);
    found[
      bytes
        .readUInt16LE(offset + 2)
        .toString(16)
        .padStart(4, '0')
    ] = bytes.subarray(offset + 8, offset + 8 + length).toString('latin1');
    offset += 8 + length;
  }
  return found;
}

describe('C-GET-RQ and C-MOVE-RQ command sets (PS3.7 9.3.3.1, 9.3.4.1)', () => {
  it('C-GET-RQ: SOP class, command 0x0010, message ID, priority, a data set follows', () => {
    const bytes = encodeCGetRq({ sopClassUid: GET, messageId: 1, priority: 2 });
    expect(bytes.readUInt32LE(8)).toBe(bytes.length - 12);
    expect(decodeCommand(bytes)).toEqual({ commandField: CommandField.CGetRq, dataSetPresent: true });
    const found = elementsOf(bytes);
    expect(found['0002']).toBe(`${GET}\0`);
    expect(found['0700']).toBe('\x02\x00');
  });

  it('C-MOVE-RQ: (0000,0600) MoveDestination padded to even length with a space', () => {
    const bytes = encodeCMoveRq({
      sopClassUid: MOVE,
      messageId: 1,
      priority: 0,
      moveDestination: 'STORESCP1',
    });
    expect(decodeCommand(bytes).commandField).toBe(CommandField.CMoveRq);
    expect(elementsOf(bytes)['0600']).toBe('STORESCP1 ');
    expect(Object.keys(elementsOf(bytes))).toEqual(['0000', '0002', '0100', '0110', '0600', '0700', '0800']);
  });
});

describe('C-GET-RSP / C-MOVE-RSP decoding', () => {
  const response = (extra: Buffer[]): Buffer =>
    Buffer.concat([
      element(0, 0x0100, us(CommandField.CGetRsp)),
      element(0, 0x0120, us(1)),
      element(0, 0x0800, us(0x0101)),
      element(0, 0x0900, us(0xff00)),
      ...extra,
    ]);

  it('reads the sub-operation counts (0000,1020)-(0000,1023), each only when present', () => {
    const decoded = decodeCommand(
      response([element(0, 0x1020, us(4)), element(0, 0x1021, us(2)), element(0, 0x1022, us(1))]),
    );
    expect(decoded).toMatchObject({
      status: 0xff00,
      subOperations: { remaining: 4, completed: 2, failed: 1 },
    });
    expect(decodeCommand(response([])).subOperations).toBeUndefined();
  });

  it("reads (0008,0058) where DCMTK's C-GET SCP puts it, in the command set, and skips other groups", () => {
    const list = Buffer.from('1.2.3\\1.2.4\0', 'latin1');
    const decoded = decodeCommand(
      response([
        element(0x0008, 0x0000, Buffer.alloc(4)),
        element(0x0008, 0x0058, list),
        element(0x0009, 0x0010, us(1)),
      ]),
    );
    expect(decoded.failedSopInstanceUids).toEqual(['1.2.3', '1.2.4']);
    expect(decoded.status).toBe(0xff00);
  });

  it('refuses a count that is not a US value', () => {
    expect(() => decodeCommand(response([element(0, 0x1021, Buffer.alloc(4))]))).toThrow(
      'malformed command set: (0000,1021) is 4 bytes, not 2',
    );
  });
});

describe('the retrieve identifier (PS3.4 C.4.2.2.1, Study Root)', () => {
  const decoded = (elements: ReturnType<typeof buildRetrieveIdentifier>): Record<string, string> =>
    Object.fromEntries(
      parseDataset(encodeDataset(elements, true), true).map((item) => [
        item.tag,
        item.value.toString('latin1').replace(/[\0 ]+$/, ''),
      ]),
    );

  it('STUDY: the level and the study UID, nothing else', () => {
    expect(decoded(buildRetrieveIdentifier({ level: 'STUDY', studyInstanceUid: '1.2.3' }))).toEqual({
      '00080052': 'STUDY',
      '0020000D': '1.2.3',
    });
  });

  it('SERIES and IMAGE: UID lists joined with a backslash', () => {
    expect(
      decoded(
        buildRetrieveIdentifier({
          level: 'SERIES',
          studyInstanceUid: '1.2.3',
          seriesInstanceUids: ['1.2.3.1', '1.2.3.2'],
        }),
      ),
    ).toEqual({ '00080052': 'SERIES', '0020000D': '1.2.3', '0020000E': '1.2.3.1\\1.2.3.2' });
    expect(
      decoded(
        buildRetrieveIdentifier({
          level: 'IMAGE',
          studyInstanceUid: '1.2.3',
          seriesInstanceUids: ['1.2.3.1'],
          sopInstanceUids: ['1.2.3.1.1', '1.2.3.1.2'],
        }),
      ),
    ).toEqual({
      '00080018': '1.2.3.1.1\\1.2.3.1.2',
      '00080052': 'IMAGE',
      '0020000D': '1.2.3',
      '0020000E': '1.2.3.1',
    });
  });

  const tooMany = Array.from({ length: 2000 }, (_, i) => `1.2.840.10008.${i}.123456789.123456789`);
  it.each<[string, unknown, RegExp]>([
    [
      'a study UID that is not one',
      { level: 'STUDY', studyInstanceUid: 'not a uid' },
      /studyInstanceUid must hold UIDs/,
    ],
    [
      'series at STUDY level',
      { level: 'STUDY', studyInstanceUid: '1.2', seriesInstanceUids: ['1.3'] },
      /STUDY retrieve names the study only/,
    ],
    [
      'SERIES without series',
      { level: 'SERIES', studyInstanceUid: '1.2' },
      /seriesInstanceUids must name at least one UID/,
    ],
    [
      'IMAGE in two series',
      {
        level: 'IMAGE',
        studyInstanceUid: '1.2',
        seriesInstanceUids: ['1.3', '1.4'],
        sopInstanceUids: ['1.5'],
      },
      /exactly one series/,
    ],
    ['PATIENT level', { level: 'PATIENT', studyInstanceUid: '1.2' }, /level must be STUDY, SERIES or IMAGE/],
    [
      'a UID list past 64 KB',
      { level: 'SERIES', studyInstanceUid: '1.2', seriesInstanceUids: tooMany },
      /too long for one request \(2000 UIDs\)/,
    ],
  ])('refuses %s before anything is sent', (_name, query, message) => {
    expect(() => buildRetrieveIdentifier(query as never)).toThrow(message);
  });
});

describe('get: requests refused before connecting', () => {
  const options = {
    host: '127.0.0.1',
    port: 1,
    callingAeTitle: 'PACSLINK',
    calledAeTitle: 'PACS',
    connectTimeoutMs: 1_000,
    associationTimeoutMs: 1_000,
    pduTimeoutMs: 1_000,
    egress: { check: () => Promise.reject(new Error('must not be reached')) } as never,
  };
  const sink = (): Promise<{ status: number }> => Promise.resolve({ status: 0 });
  const study = { level: 'STUDY', studyInstanceUid: '1.2.3' } as const;

  it.each<[string, { storageSopClasses: string[]; transferSyntaxes: string[] }, string]>([
    [
      'no storage class',
      { storageSopClasses: [], transferSyntaxes: ['1.2.840.10008.1.2.1'] },
      'storageSopClasses must name at least one UID',
    ],
    [
      'a syntax that is not a UID',
      { storageSopClasses: [CT], transferSyntaxes: ['x'] },
      'transferSyntaxes must hold UIDs (got "x")',
    ],
    [
      'more pairs than contexts fit',
      {
        storageSopClasses: Array.from({ length: 64 }, (_, i) => `${CT}.${i}`),
        transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'],
      },
      'storageSopClasses × transferSyntaxes is 128 presentation contexts; at most 127 fit one association',
    ],
  ])('%s', async (_name, more, message) => {
    await expect(get(options, study, { ...more, sink })).rejects.toMatchObject({
      code: DimseErrorCode.INVALID_REQUEST,
      message,
    });
  });
});

describe('retrieve failures in words', () => {
  const context: FailureContext = {
    host: 'pacs.example',
    port: 104,
    callingAeTitle: 'PACSLINK',
    calledAeTitle: 'PACS',
    command: 'C-GET',
    service: 'Study Root Query/Retrieve (C-GET)',
  };

  it('counts without instances: INSTANCES_NOT_RECEIVED, neither transient nor an unreachable PACS', () => {
    const error = toDimseError(
      {
        kind: 'instances-not-received',
        received: 0,
        subOperations: { completed: 2, warning: 1 },
        scpRoleGranted: false,
      },
      context,
    );
    expect(error.code).toBe(DimseErrorCode.INSTANCES_NOT_RECEIVED);
    expect(error.message).toBe(
      'the PACS reported 3 C-GET sub-operations completed but sent 0 instances on this association (it granted us the SCP role of no storage SOP class: it may not send C-GET sub-operations at all)',
    );
    expect(isTransientDimseError(error)).toBe(false);
    expect(isUnreachableDimseError(error)).toBe(false);
  });

  it('a refused context names its SOP class, for the import fallback to key on', () => {
    const error = toDimseError({ kind: 'context-rejected', result: 3, abstractSyntaxUid: CT }, context);
    expect(error.message).toBe(
      'the PACS does not accept CT Image Storage (presentation context rejected: abstract syntax not supported)',
    );
    expect(error.details).toMatchObject({ abstractSyntaxUid: CT, presentationContextResult: 3 });
  });
});
