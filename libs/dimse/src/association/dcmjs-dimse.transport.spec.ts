import { Dataset, constants, responses } from 'dcmjs-dimse';
import {
  EncodedIdentifier,
  KEEP_RAW_READ_OPTIONS,
  PendingAwareFindRequest,
  rawDatasetOf,
} from './dcmjs-dimse.transport';

// The workarounds inside dcmjs-dimse, checked against the installed library without any I/O.

const EXPLICIT = constants.TransferSyntax.ExplicitVRLittleEndian;

/** (0008,0005) CS "ISO_IR 144", then a sequence (0008,1032) with one item holding (0008,0104) LO "Рентген" */
function cyrillicInSequence(): Buffer {
  const element = (tag: [number, number], vr: string, value: Buffer): Buffer => {
    const header = Buffer.alloc(8);
    header.writeUInt16LE(tag[0], 0);
    header.writeUInt16LE(tag[1], 2);
    header.write(vr, 4, 'latin1');
    header.writeUInt16LE(value.length, 6);
    return Buffer.concat([header, value]);
  };
  const text = Buffer.from([0xc0, 0xd5, 0xdd, 0xe2, 0xd3, 0xd5, 0xdd, 0x20]); // "Рентген " in ISO 8859-5
  const inner = element([0x0008, 0x0104], 'LO', text);
  const item = Buffer.alloc(8);
  item.writeUInt16LE(0xfffe, 0);
  item.writeUInt16LE(0xe000, 2);
  item.writeUInt32LE(inner.length, 4);
  const sequenceHeader = Buffer.alloc(12);
  sequenceHeader.writeUInt16LE(0x0008, 0);
  sequenceHeader.writeUInt16LE(0x1032, 2);
  sequenceHeader.write('SQ', 4, 'latin1');
  sequenceHeader.writeUInt32LE(item.length + inner.length, 8);
  return Buffer.concat([
    element([0x0008, 0x0005], 'CS', Buffer.from('ISO_IR 144')),
    sequenceHeader,
    item,
    inner,
  ]);
}

describe('trap 5: the raw identifier instead of dcmjs parsing', () => {
  it('is real: dcmjs reads text inside a sequence item as Latin-1 whatever (0008,0005) says', () => {
    const parsed = new Dataset(cyrillicInSequence(), EXPLICIT);
    const elements = parsed.getElements() as { ProcedureCodeSequence: Array<{ CodeMeaning: string }> };
    expect(elements.ProcedureCodeSequence[0].CodeMeaning).not.toBe('Рентген');
    expect(elements.ProcedureCodeSequence[0].CodeMeaning).toBe('ÀÕÝâÓÕÝ');
  });

  it('a data set read with KEEP_RAW_READ_OPTIONS keeps its bytes and skips the dcmjs parser', () => {
    const bytes = cyrillicInSequence();
    const dataset = new Dataset(bytes, EXPLICIT, KEEP_RAW_READ_OPTIONS);
    expect(rawDatasetOf(dataset)).toEqual({ bytes, transferSyntaxUid: EXPLICIT });
    expect(dataset.getElements()).toEqual({});
  });

  it('every other Dataset is parsed as before', () => {
    const dataset = new Dataset(cyrillicInSequence(), EXPLICIT);
    expect(rawDatasetOf(dataset)).toBeUndefined();
    expect(Object.keys(dataset.getElements())).toContain('ProcedureCodeSequence');
  });
});

describe('trap 3: PendingAwareFindRequest', () => {
  function response(status: number): responses.CFindResponse {
    return new responses.CFindResponse(status, '');
  }

  function watch(request: PendingAwareFindRequest): string[] {
    const seen: string[] = [];
    request.on('response', (r: responses.Response) => seen.push(`response ${r.getStatus().toString(16)}`));
    request.on('done', () => seen.push('done'));
    return seen;
  }

  it('ignores the "done" dcmjs-dimse raises right after a 0xFF01 response', () => {
    const request = new PendingAwareFindRequest();
    const seen = watch(request);
    // what Network._performDimse does for a response whose status is not 0xFF00
    request.raiseResponseEvent(response(0xff01));
    request.raiseDoneEvent();
    request.raiseResponseEvent(response(0x0000));
    request.raiseDoneEvent();
    expect(seen).toEqual(['response ff01', 'response 0', 'done']);
  });

  it('keeps "done" for final statuses and for requests that never got a response', () => {
    const failed = new PendingAwareFindRequest();
    const seenFailed = watch(failed);
    failed.raiseResponseEvent(response(0xa700));
    failed.raiseDoneEvent();
    expect(seenFailed).toEqual(['response a700', 'done']);

    const skipped = new PendingAwareFindRequest();
    const seenSkipped = watch(skipped);
    skipped.raiseDoneEvent();
    expect(seenSkipped).toEqual(['done']);
  });
});

describe('trap 6: EncodedIdentifier', () => {
  it('hands dcmjs-dimse our bytes for the transfer syntax it was set to', () => {
    const identifier = new EncodedIdentifier((ts) => Buffer.from(ts, 'latin1'));
    expect(identifier.getDenaturalizedDataset().toString('latin1')).toBe(
      constants.TransferSyntax.ImplicitVRLittleEndian,
    );
    identifier.setTransferSyntaxUid(EXPLICIT);
    expect(identifier.getDenaturalizedDataset().toString('latin1')).toBe(EXPLICIT);
  });

  it('never prints the identifier', () => {
    const identifier = new EncodedIdentifier(() => Buffer.from('Иванов'));
    expect(identifier.toString()).not.toContain('Иванов');
  });
});
