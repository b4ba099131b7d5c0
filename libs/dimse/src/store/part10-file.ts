import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LONG_LENGTH_VRS } from '@pacslink/dicom';

/** What a Part 10 file says about itself in its File Meta Information (PS3.10 7.1). */
export interface Part10Meta {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
}

/** An open Part 10 file, positioned for sending: the data set starts at `datasetOffset`. */
export interface Part10File {
  /** the file descriptor; the sender closes it */
  fd: number;
  size: number;
  datasetOffset: number;
  /** the file's first bytes, already read (the meta header and often the whole data set) */
  head: Buffer;
  meta: Part10Meta;
}

export type OpenedPart10 = { ok: true; file: Part10File } | { ok: false; reason: string };

/** Enough for any real meta header, and for a small instance in one read. */
export const HEAD_BYTES = 64 * 1024;
const PREAMBLE_BYTES = 128;
const META_START = PREAMBLE_BYTES + 4;

function uidOf(value: Buffer): string {
  return value.toString('latin1').replace(/[\0 ]+$/, '');
}

/**
 * Reads group 0002 (always Explicit VR Little Endian, PS3.10 7.1) from `head`; answers the meta and
 * where the data set starts, or why the file is not a usable Part 10 file.
 */
export function parseMetaHeader(
  head: Buffer,
  fileSize: number,
): { meta: Part10Meta; datasetOffset: number } | { reason: string } {
  if (head.length < META_START || head.toString('latin1', PREAMBLE_BYTES, META_START) !== 'DICM') {
    return { reason: 'not a DICOM Part 10 file (no "DICM" after the 128-byte preamble)' };
  }
  const values = new Map<number, string>();
  let offset = META_START;
  for (;;) {
    if (offset + 8 > head.length) {
      if (head.length < fileSize) return { reason: `file meta information longer than ${HEAD_BYTES} bytes` };
      break;
    }
    if (head.readUInt16LE(offset) !== 0x0002) break;
    const elementNumber = head.readUInt16LE(offset + 2);
    const vr = head.toString('latin1', offset + 4, offset + 6);
    const long = LONG_LENGTH_VRS.has(vr);
    const length = long ? head.readUInt32LE(offset + 8) : head.readUInt16LE(offset + 6);
    const start = offset + (long ? 12 : 8);
    if (start + length > head.length) {
      return {
        reason: `file meta information element (0002,${elementNumber.toString(16).padStart(4, '0')}) ends beyond ${
          head.length < fileSize ? `the first ${HEAD_BYTES} bytes` : 'the end of the file'
        }`,
      };
    }
    values.set(elementNumber, uidOf(head.subarray(start, start + length)));
    offset = start + length;
  }
  const sopClassUid = values.get(0x0002);
  const sopInstanceUid = values.get(0x0003);
  const transferSyntaxUid = values.get(0x0010);
  const missing = [
    sopClassUid ? undefined : '(0002,0002) MediaStorageSOPClassUID',
    sopInstanceUid ? undefined : '(0002,0003) MediaStorageSOPInstanceUID',
    transferSyntaxUid ? undefined : '(0002,0010) TransferSyntaxUID',
  ].filter((name) => name !== undefined);
  if (!sopClassUid || !sopInstanceUid || !transferSyntaxUid) {
    return { reason: `file meta information lacks ${missing.join(', ')}` };
  }
  return { meta: { sopClassUid, sopInstanceUid, transferSyntaxUid }, datasetOffset: offset };
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'EACCES':
    case 'EPERM':
      return 'file not readable (permission denied)';
    case 'EISDIR':
      return 'a directory, not a file';
    case undefined:
    default:
      return `file not readable (${code ?? (error instanceof Error ? error.message : String(error))})`;
  }
}

/**
 * Opens the file and reads its head (never the whole file when it is larger), synchronously: on a
 * local disk these calls take microseconds, while the same calls through the libuv thread pool
 * cost 0.2-0.4 ms of CPU per file (docs/performance/c-store.md), more than the rest of a small
 * C-STORE. The head is at most 64 KB, so the event loop is never held for long by a healthy disk.
 * An unusable file is an answer, not an exception.
 */
export function openPart10(path: string): OpenedPart10 {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return { ok: false, reason: `${path}: ${describeFsError(error)}` };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      closeSync(fd);
      return { ok: false, reason: `${path}: not a regular file` };
    }
    const head = Buffer.allocUnsafe(Math.min(HEAD_BYTES, stats.size));
    const bytesRead = readSync(fd, head, 0, head.length, 0);
    const bytes = head.subarray(0, bytesRead);
    const parsed = parseMetaHeader(bytes, stats.size);
    if ('reason' in parsed) {
      closeSync(fd);
      return { ok: false, reason: `${path}: ${parsed.reason}` };
    }
    return { ok: true, file: { fd, size: stats.size, head: bytes, ...parsed } };
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // the read failed first; that is the reason reported
    }
    return { ok: false, reason: `${path}: ${describeFsError(error)}` };
  }
}
