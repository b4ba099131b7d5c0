import {
  hexTag,
  InvalidVrError,
  readElementHeader,
  UNDEFINED_LENGTH,
  type ElementHeader,
} from './element-header';

/** PS3.10 7.1: the preamble before "DICM". */
export const PART10_PREAMBLE_BYTES = 128;
/**
 * The most bytes of a file's head the meta reader looks at: a real File Meta Information is a few
 * hundred bytes, so a group 0002 that runs past this is a broken file, not one to buffer further.
 */
export const PART10_META_MAX_BYTES = 64 * 1024;

const META_START = PART10_PREAMBLE_BYTES + 4;
const META_GROUP = 0x0002;

/** What a Part 10 file says about itself in its File Meta Information (PS3.10 7.1). */
export interface Part10Meta {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
}

export type Part10MetaRead =
  | {
      status: 'complete';
      meta: Part10Meta;
      /** every group 0002 element's value, keyed by tag ((group << 16) | element); views into the head */
      elements: ReadonlyMap<number, Buffer>;
      /** where the data set starts in the head */
      datasetOffset: number;
    }
  /** the meta group may go on past these bytes: call again with more of the file */
  | { status: 'incomplete' }
  | { status: 'invalid'; reason: string };

/** A UI value without its NUL or space padding (PS3.5 6.2). */
export function uidText(value: Buffer): string {
  return value.toString('latin1').replace(/[\0 ]+$/, '');
}

/** PS3.10 Table 7.1-1: Type 1 elements the data set cannot be sent or stored without. */
const REQUIRED = [
  [0x00020002, 'MediaStorageSOPClassUID', 'sopClassUid'],
  [0x00020003, 'MediaStorageSOPInstanceUID', 'sopInstanceUid'],
  [0x00020010, 'TransferSyntaxUID', 'transferSyntaxUid'],
] as const;

function invalid(reason: string): Part10MetaRead {
  return { status: 'invalid', reason };
}

/** Read more, unless these bytes are all there is or all the reader will look at. */
function more(head: Buffer, atEnd: boolean, what: string): Part10MetaRead {
  if (atEnd) return invalid(`the file ends inside its file meta information (${what})`);
  if (head.length >= PART10_META_MAX_BYTES) {
    return invalid(`file meta information longer than ${PART10_META_MAX_BYTES} bytes`);
  }
  return { status: 'incomplete' };
}

/**
 * Reads the 128-byte preamble, "DICM" and the File Meta Information (group 0002, always Explicit VR
 * Little Endian, PS3.10 7.1) from the first bytes of a Part 10 file or stream. It never needs more
 * than PART10_META_MAX_BYTES, so a reader of a stream buffers at most that much: call it with what
 * has arrived, and again with more while it answers 'incomplete'. `atEnd` says `head` is the whole
 * file. The meta group ends at the first element of another group; an unusable file is an answer
 * with its reason, not an exception.
 */
export function readPart10Meta(head: Buffer, atEnd: boolean): Part10MetaRead {
  if (head.length < META_START) {
    if (!atEnd) return { status: 'incomplete' };
    return invalid(
      `not a DICOM Part 10 file: ${head.length} bytes, shorter than the 128-byte preamble and "DICM" (PS3.10 7.1)`,
    );
  }
  if (head.toString('latin1', PART10_PREAMBLE_BYTES, META_START) !== 'DICM') {
    return invalid('not a DICOM Part 10 file: no "DICM" after the 128-byte preamble (PS3.10 7.1)');
  }
  const elements = new Map<number, Buffer>();
  let offset = META_START;
  for (;;) {
    // Two bytes tell whether the next element is still group 0002; at the file's end, one is a
    // data set cut short, which is for the data set's reader to say.
    if (head.length - offset < 2) {
      if (atEnd) break;
      return more(head, atEnd, 'an element header');
    }
    if (head.readUInt16LE(offset) !== META_GROUP) break;
    let header: ElementHeader | undefined;
    try {
      header = readElementHeader(head, offset, true);
    } catch (error) {
      if (!(error instanceof InvalidVrError)) throw error;
      return invalid(`malformed file meta information: ${error.message}`);
    }
    if (header === undefined) return more(head, atEnd, 'an element header');
    const { tag, length } = header;
    if (length === UNDEFINED_LENGTH) {
      return invalid(`file meta information element ${hexTag(tag)} has an undefined length`);
    }
    const start = offset + header.headerBytes;
    if (start + length > head.length) return more(head, atEnd, `element ${hexTag(tag)}`);
    elements.set(tag, head.subarray(start, start + length));
    offset = start + length;
  }
  const meta: Partial<Record<(typeof REQUIRED)[number][2], string>> = {};
  const missing: string[] = [];
  for (const [tag, keyword, field] of REQUIRED) {
    const value = elements.get(tag);
    const text = value === undefined ? '' : uidText(value);
    if (text === '') missing.push(`${hexTag(tag)} ${keyword}`);
    else meta[field] = text;
  }
  if (
    meta.sopClassUid === undefined ||
    meta.sopInstanceUid === undefined ||
    meta.transferSyntaxUid === undefined
  ) {
    return invalid(`the file meta information lacks ${missing.join(', ')} (PS3.10 7.1)`);
  }
  return {
    status: 'complete',
    meta: {
      sopClassUid: meta.sopClassUid,
      sopInstanceUid: meta.sopInstanceUid,
      transferSyntaxUid: meta.transferSyntaxUid,
    },
    elements,
    datasetOffset: offset,
  };
}
