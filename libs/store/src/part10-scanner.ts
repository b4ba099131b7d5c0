import {
  hexTag,
  InvalidVrError,
  isValidUid,
  ITEM_DELIMITATION_TAG,
  ITEM_TAG,
  readElementHeader,
  readPart10Meta,
  SEQUENCE_DELIMITATION_TAG,
  uidText,
  UNDEFINED_LENGTH,
  type ElementHeader,
  PART10_META_MAX_BYTES,
} from '@pacslink/dicom';
import { datasetHasExplicitVr } from './transfer-syntax';
import { InvalidDicomError } from './invalid-dicom.error';

/** The attributes the store indexes, keyed by tag ((group << 16) | element). */
export const IndexedTag = Object.freeze({
  MediaStorageSOPClassUID: 0x00020002,
  MediaStorageSOPInstanceUID: 0x00020003,
  TransferSyntaxUID: 0x00020010,
  SpecificCharacterSet: 0x00080005,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  StudyDate: 0x00080020,
  AccessionNumber: 0x00080050,
  Modality: 0x00080060,
  StudyDescription: 0x00081030,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
});

const WANTED = new Set<number>(Object.values(IndexedTag));
/** Top-level elements come in ascending tag order (PS3.5 7.1): past this one nothing is wanted. */
const LAST_WANTED = IndexedTag.SeriesInstanceUID;
/** No indexed value is anywhere near this long; a longer one is a broken file, not a patient name. */
const MAX_WANTED_VALUE_BYTES = 64 * 1024;
/** PS3.10 7.1: File Meta Information, group 0002 */
const META_GROUP = 0x0002;
/**
 * What a pending element usually needs to complete: the data set's first tag after a meta header
 * (whose end is known only then), the rest of an element header, of a UID or a name.
 */
const FIRST_JOIN_BYTES = 512;
/** More than a pending element can need to complete: a meta header, or a wanted value and its header. */
const JOIN_BYTES = PART10_META_MAX_BYTES + MAX_WANTED_VALUE_BYTES;

type Phase = 'meta' | 'dataset';

/**
 * Scans a DICOM Part 10 file (PS3.10 7.1) chunk by chunk, as it streams past, keeping only the
 * values of IndexedTag. Element values are skipped by counting, so memory stays at one chunk plus
 * one element header whatever the file's size. After the indexed attributes it keeps walking the
 * top-level element framing (headers only) so that a file cut short is noticed at its end.
 */
export class Part10Scanner {
  private phase: Phase = 'meta';
  private pending: Buffer = Buffer.alloc(0);
  private skipBytes = 0;
  /** Open undefined-length sequences and items; attributes inside them are not indexed. */
  private depth = 0;
  private explicitVr = true;
  private bytesSeen = 0;
  private readonly values = new Map<number, Buffer>();

  push(chunk: Buffer): void {
    this.bytesSeen += chunk.length;
    let data = chunk;
    // Join the few pending bytes with only as much of the chunk as the pending element needs, not
    // with the whole chunk, which may be a whole data set: a few hundred bytes first, as much as
    // one element can need only when that was not enough. The Storage SCP's path always has the
    // meta header pending (it comes as a chunk of its own), so every file paid for the larger join.
    let pending = this.pending;
    let joinedUpTo = 0;
    for (const joinBytes of [FIRST_JOIN_BYTES, JOIN_BYTES]) {
      if (pending.length === 0 || joinedUpTo >= chunk.length) break;
      const joined = Buffer.concat([pending, chunk.subarray(joinedUpTo, joinBytes)]);
      const inChunk = this.scan(joined) - pending.length;
      // Still inside the pending element only when the join was too short to complete it.
      if (inChunk >= 0) {
        data = chunk.subarray(joinedUpTo + inChunk);
        pending = Buffer.alloc(0);
      } else {
        pending = joined.subarray(inChunk + pending.length);
        joinedUpTo = Math.min(joinBytes, chunk.length);
      }
    }
    if (pending.length > 0) {
      data = joinedUpTo >= chunk.length ? pending : Buffer.concat([pending, chunk.subarray(joinedUpTo)]);
    }
    const offset = this.scan(data);
    // A copy, so that the pending few bytes do not keep a whole chunk alive.
    this.pending = Buffer.from(data.subarray(offset));
  }

  /** Steps through `data` while whole elements are there; answers the offset reached. */
  private scan(data: Buffer): number {
    let offset = 0;
    for (;;) {
      if (this.skipBytes > 0) {
        const skipped = Math.min(this.skipBytes, data.length - offset);
        this.skipBytes -= skipped;
        offset += skipped;
        if (this.skipBytes > 0) return offset;
      }
      const consumed = this.step(data, offset);
      if (consumed === 0) return offset;
      offset += consumed;
    }
  }

  /** The raw values found, once the whole file went through push(); throws when it ended early. */
  finish(): ReadonlyMap<number, Buffer> {
    if (this.phase === 'meta') {
      const read = readPart10Meta(this.pending, true);
      if (read.status === 'invalid') throw new InvalidDicomError(read.reason);
      if (read.status === 'complete' && read.datasetOffset === this.pending.length) {
        throw new InvalidDicomError('the file ends after its meta header: it holds no dataset');
      }
    }
    if (this.skipBytes > 0 || this.pending.length > 0 || this.depth > 0) {
      throw new InvalidDicomError(
        `truncated: the file ends inside an element, after ${this.bytesSeen} bytes`,
      );
    }
    return this.values;
  }

  /** The dataset's SOP Instance UID once read and valid (to name a file refused later on). */
  sopInstanceUid(): string | undefined {
    const raw = this.values.get(IndexedTag.SOPInstanceUID);
    const value = raw === undefined ? undefined : uidText(raw);
    return value !== undefined && isValidUid(value) ? value : undefined;
  }

  /** Handles the element at `offset`; returns the bytes consumed, 0 when more data is needed. */
  private step(data: Buffer, offset: number): number {
    switch (this.phase) {
      case 'meta':
        return this.meta(data, offset);
      case 'dataset':
        return this.datasetElement(data, offset);
    }
  }

  /**
   * The preamble and meta header, by libs/dicom's reader: 0 until they have arrived whole (the
   * reader refuses a meta header longer than PART10_META_MAX_BYTES, so `pending` stays bounded).
   */
  private meta(data: Buffer, offset: number): number {
    const read = readPart10Meta(data.subarray(offset), false);
    switch (read.status) {
      case 'incomplete':
        return 0;
      case 'invalid':
        throw new InvalidDicomError(read.reason);
      case 'complete':
        for (const [tag, value] of read.elements) {
          if (WANTED.has(tag)) this.values.set(tag, Buffer.from(value));
        }
        this.explicitVr = datasetHasExplicitVr(read.meta.transferSyntaxUid);
        this.phase = 'dataset';
        return read.datasetOffset;
    }
  }

  private datasetElement(data: Buffer, offset: number): number {
    const header = this.readHeader(data, offset, this.explicitVr);
    if (header === undefined) return 0;
    const { tag, length, headerBytes } = header;
    // The meta group ends where the dataset begins; a (0002,xxxx) after that would be indexed as
    // the file's own (its transfer syntax, its SOP instance) while readers take the meta header's.
    if (this.depth === 0 && tag >>> 16 === META_GROUP) {
      throw this.malformed(`${hexTag(tag)}, a File Meta element, inside the dataset (PS3.10 7.1)`);
    }
    if (tag === ITEM_DELIMITATION_TAG || tag === SEQUENCE_DELIMITATION_TAG) {
      if (this.depth === 0) throw this.malformed(`a delimitation item (${hexTag(tag)}) outside any sequence`);
      this.depth--;
      return headerBytes;
    }
    if (length === UNDEFINED_LENGTH) {
      // A sequence, an item of one, or encapsulated Pixel Data (PS3.5 7.5, A.4): walk inside.
      // Explicit UN of undefined length holds Implicit VR content (PS3.5 6.2.2), which this
      // scanner would misread.
      if (this.explicitVr && header.vr === 'UN') {
        throw new InvalidDicomError(
          `element ${hexTag(tag)} is UN with undefined length (PS3.5 6.2.2), which the store does not read`,
        );
      }
      this.depth++;
      return headerBytes;
    }
    if (tag === ITEM_TAG && this.depth === 0)
      throw this.malformed('an item (FFFE,E000) outside any sequence');
    return this.consume(data, offset, header);
  }

  /** Keeps the value when it is wanted, else arranges to skip it. */
  private consume(data: Buffer, offset: number, header: ElementHeader): number {
    const { tag, length, headerBytes } = header;
    const wanted = this.depth === 0 && WANTED.has(tag) && tag <= LAST_WANTED;
    if (!wanted) {
      this.skipBytes = length;
      return headerBytes;
    }
    if (length > MAX_WANTED_VALUE_BYTES) {
      throw this.malformed(`element ${hexTag(tag)} claims ${length} bytes`);
    }
    if (data.length - offset < headerBytes + length) return 0;
    const start = offset + headerBytes;
    this.values.set(tag, Buffer.from(data.subarray(start, start + length)));
    return headerBytes + length;
  }

  /** The header at `offset`, or undefined until it has arrived whole. */
  private readHeader(data: Buffer, offset: number, explicitVr: boolean): ElementHeader | undefined {
    try {
      return readElementHeader(data, offset, explicitVr);
    } catch (error) {
      if (error instanceof InvalidVrError) throw this.malformed(error.message);
      throw error;
    }
  }

  private malformed(what: string): InvalidDicomError {
    return new InvalidDicomError(`malformed dataset: ${what}`);
  }
}
