import { Readable } from 'node:stream';
import { encodeDataset, type EncodableElement } from './dataset-encoder';
import { PART10_PREAMBLE_BYTES } from './part10-meta';

/** What a Part 10 file's meta header says about a data set that arrived without one (DIMSE). */
export interface Part10MetaFacts {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  implementationClassUid: string;
  implementationVersionName?: string;
  /** (0002,0016): the AE title of the peer that sent it */
  sourceAeTitle?: string;
}

/**
 * The 128-byte preamble, "DICM" and the File Meta Information (PS3.10 7.1) for a data set encoded
 * in `transferSyntaxUid`: with the data set's own bytes after it, a Part 10 file. Group 0002 is
 * Explicit VR Little Endian whatever the data set's syntax, written by the one data set encoder.
 */
export function encodePart10Header(facts: Part10MetaFacts): Buffer {
  const latin1 = (value: string): Buffer => Buffer.from(value, 'latin1');
  const elements: EncodableElement[] = [
    { tag: '00020001', vr: 'OB', value: Buffer.from([0x00, 0x01]) },
    { tag: '00020002', vr: 'UI', value: latin1(facts.sopClassUid) },
    { tag: '00020003', vr: 'UI', value: latin1(facts.sopInstanceUid) },
    { tag: '00020010', vr: 'UI', value: latin1(facts.transferSyntaxUid) },
    { tag: '00020012', vr: 'UI', value: latin1(facts.implementationClassUid) },
  ];
  if (facts.implementationVersionName !== undefined) {
    elements.push({ tag: '00020013', vr: 'SH', value: latin1(facts.implementationVersionName) });
  }
  if (facts.sourceAeTitle !== undefined) {
    elements.push({ tag: '00020016', vr: 'AE', value: latin1(facts.sourceAeTitle) });
  }
  const body = encodeDataset(elements, true);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  return Buffer.concat([
    Buffer.alloc(PART10_PREAMBLE_BYTES),
    Buffer.from('DICM', 'latin1'),
    encodeDataset([{ tag: '00020000', vr: 'UL', value: groupLength }], true),
    body,
  ]);
}

/**
 * A Part 10 file's chunks: the header for `facts`, then the data set's bytes as they come, never
 * whole. For a consumer that only iterates (StudyStore.write): no stream around it to pay for.
 */
export async function* part10Chunks(
  facts: Part10MetaFacts,
  dataSet: AsyncIterable<Buffer>,
): AsyncGenerator<Buffer> {
  yield encodePart10Header(facts);
  yield* dataSet;
}

/** part10Chunks as a byte stream, for a consumer that pipes. */
export function part10Stream(facts: Part10MetaFacts, dataSet: AsyncIterable<Buffer>): Readable {
  return Readable.from(part10Chunks(facts, dataSet), { objectMode: false });
}
