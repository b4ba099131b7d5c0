import { PART10_META_MAX_BYTES, readPart10Meta, type Part10Meta } from '@pacslink/dicom';
import { storeIo } from '@pacslink/store';

export type { Part10Meta } from '@pacslink/dicom';

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

/** The meta reader's bound, and a small instance in one read. */
const HEAD_BYTES = PART10_META_MAX_BYTES;

/**
 * The meta and where the data set starts, from a file's first bytes (libs/dicom's reader), or why
 * the file is not a usable Part 10 file.
 */
export function parseMetaHeader(
  head: Buffer,
  fileSize: number,
): { meta: Part10Meta; datasetOffset: number } | { reason: string } {
  const read = readPart10Meta(head, head.length >= fileSize);
  switch (read.status) {
    case 'complete':
      return { meta: read.meta, datasetOffset: read.datasetOffset };
    case 'invalid':
      return { reason: read.reason };
    case 'incomplete':
      return { reason: `file meta information continues past the first ${head.length} bytes read` };
  }
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
 * Opens the file and reads its head (never the whole file when it is larger) through the store's
 * file I/O (storeIo): synchronous calls on a local disk, where they take microseconds while the same
 * calls through the libuv thread pool cost 0.2-0.4 ms of CPU per file (docs/performance/c-store.md),
 * more than the rest of a small C-STORE; thread-pool calls on network storage, where one call may
 * wait for a server. The head is at most 64 KB. An unusable file is an answer, never a rejection.
 */
export async function openPart10(path: string): Promise<OpenedPart10> {
  const io = storeIo();
  let fd: number;
  try {
    fd = await io.open(path, 'r');
  } catch (error) {
    return { ok: false, reason: `${path}: ${describeFsError(error)}` };
  }
  try {
    const stats = await io.fstat(fd);
    if (!stats.isFile()) {
      await io.close(fd);
      return { ok: false, reason: `${path}: not a regular file` };
    }
    const head = Buffer.allocUnsafe(Math.min(HEAD_BYTES, stats.size));
    const bytesRead = await io.read(fd, head, 0, head.length, 0);
    const bytes = head.subarray(0, bytesRead);
    const parsed = parseMetaHeader(bytes, stats.size);
    if ('reason' in parsed) {
      await io.close(fd);
      return { ok: false, reason: `${path}: ${parsed.reason}` };
    }
    return { ok: true, file: { fd, size: stats.size, head: bytes, ...parsed } };
  } catch (error) {
    try {
      await io.close(fd);
    } catch {
      // the read failed first; that is the reason reported
    }
    return { ok: false, reason: `${path}: ${describeFsError(error)}` };
  }
}
