import { Readable } from 'node:stream';

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

const PREAMBLE_BYTES = 128;

/** UI: even length, NUL padded; SH/AE: even length, space padded (PS3.5 6.2). */
function padded(value: string, pad: string): Buffer {
  return Buffer.from(value.length % 2 === 0 ? value : `${value}${pad}`, 'latin1');
}

/** Explicit VR Little Endian, as every meta header is (PS3.10 7.1). */
function element(tagElement: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB';
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(0x0002, 0);
  header.writeUInt16LE(tagElement, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/**
 * The 128-byte preamble, "DICM" and the File Meta Information (PS3.10 7.1) for a data set encoded
 * in `transferSyntaxUid`: with the data set's own bytes after it, a Part 10 file.
 */
export function encodePart10Header(facts: Part10MetaFacts): Buffer {
  const elements = [
    element(0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 'UI', padded(facts.sopClassUid, '\0')),
    element(0x0003, 'UI', padded(facts.sopInstanceUid, '\0')),
    element(0x0010, 'UI', padded(facts.transferSyntaxUid, '\0')),
    element(0x0012, 'UI', padded(facts.implementationClassUid, '\0')),
  ];
  if (facts.implementationVersionName !== undefined) {
    elements.push(element(0x0013, 'SH', padded(facts.implementationVersionName, ' ')));
  }
  if (facts.sourceAeTitle !== undefined) {
    elements.push(element(0x0016, 'AE', padded(facts.sourceAeTitle, ' ')));
  }
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  return Buffer.concat([
    Buffer.alloc(PREAMBLE_BYTES),
    Buffer.from('DICM', 'latin1'),
    element(0x0000, 'UL', groupLength),
    body,
  ]);
}

/** A Part 10 stream: the header for `facts`, then the data set's bytes as they come, never whole. */
export function part10Stream(facts: Part10MetaFacts, dataSet: AsyncIterable<Buffer>): Readable {
  async function* file(): AsyncGenerator<Buffer> {
    yield encodePart10Header(facts);
    yield* dataSet;
  }
  return Readable.from(file(), { objectMode: false });
}
