import { Transform, type TransformCallback } from 'node:stream';

/** A C-STORE data set that cannot be one; the C-STORE-RSP says 0xC000 (cannot understand) and why. */
export class DataSetRefusedError extends Error {
  override readonly name = 'DataSetRefusedError';
}

/** PS3.5 A.5: a deflated data set's first bytes are deflate's, not an element's tag. */
const DEFLATED_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set([
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.4.95',
]);
/**
 * Below this group a data set holds nothing: 0000 is a command's, 0002 a file's meta information
 * (PS3.10 7.1), 0004 a DICOMDIR's, and the odd groups 0001-0007 are illegal (PS3.5 7.1).
 */
const FIRST_DATA_SET_GROUP = 0x0008;
const TAG_BYTES = 4;
/**
 * Fragments passed on and not yet read. Counted in fragments, not bytes: a byte stream's reader
 * gets every waiting fragment joined into one new Buffer, a copy of the data set for a reader that
 * fell behind. Past this, fragments wait on the writable side, whose byte limit holds the peer back.
 */
const READ_AHEAD_FRAGMENTS = 1;

function hex4(value: number): string {
  return value.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * A C-STORE data set's bytes as the fragments arrive, passed on unchanged (each fragment a chunk
 * of its own, never joined with the next) once its first element is known to belong in a data
 * set. One that starts with group 0000 or 0002 (Little Endian tags in every syntax we accept)
 * fails the stream: in front of the meta header the store writes, a File Meta group inside the
 * data set would be read as the file's own, letting the peer state another transfer syntax or
 * instance than the ones negotiated.
 */
export class DataSetStream extends Transform {
  /** the first bytes until the first tag is whole; undefined once it was checked */
  private head: Buffer | undefined;

  /** `bufferBytes`: how many bytes may wait on the writable side before write() says stop */
  constructor(transferSyntaxUid: string, bufferBytes: number) {
    super({
      writableHighWaterMark: bufferBytes,
      readableObjectMode: true,
      readableHighWaterMark: READ_AHEAD_FRAGMENTS,
    });
    this.head = DEFLATED_TRANSFER_SYNTAXES.has(transferSyntaxUid) ? undefined : Buffer.alloc(0);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.head === undefined) return callback(null, chunk);
    // The tag is read in place; only when a fragment was shorter than a tag are its bytes joined,
    // and then with no more of this one than the tag still needs, not with the whole fragment
    // (every received data set's first fragment was copied once more that way).
    const tag =
      this.head.length === 0
        ? chunk
        : Buffer.concat([this.head, chunk.subarray(0, TAG_BYTES - this.head.length)]);
    if (tag.length < TAG_BYTES) {
      this.head = tag;
      return callback();
    }
    const group = tag.readUInt16LE(0);
    if (group < FIRST_DATA_SET_GROUP) {
      this.head = undefined;
      const tagText = `(${hex4(group)},${hex4(tag.readUInt16LE(2))})`;
      return callback(new DataSetRefusedError(`the data set starts with ${tagText}, not a data set element`));
    }
    if (this.head.length > 0) this.push(this.head);
    this.head = undefined;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    // A data set shorter than a tag: the store says what is wrong with it.
    if (this.head !== undefined && this.head.length > 0) this.push(this.head);
    callback();
  }
}
