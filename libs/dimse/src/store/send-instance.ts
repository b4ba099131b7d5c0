import { read } from 'node:fs';
import type { UlAssociation } from '../upper-layer/ul-association';
import type { Part10File } from './part10-file';

/** Read size after the head: large enough for few reads, small enough to keep memory flat. */
export const CHUNK_BYTES = 256 * 1024;

/** The file could not be read to its end while its data set was going out; the association is unusable. */
export class DatasetReadError extends Error {
  override readonly name = 'DatasetReadError';
}

/** Beyond the head, reads go through the thread pool: the bytes dominate their cost, not the call. */
function readChunk(fd: number, position: number, length: number, into: Buffer): Promise<Buffer | Error> {
  return new Promise((resolve) => {
    const buffer = into.subarray(0, length);
    read(fd, buffer, 0, length, position, (error, bytesRead) => {
      resolve(error ?? buffer.subarray(0, bytesRead));
    });
  });
}

/**
 * Sends one C-STORE-RQ: the command set, then the stored data set bytes as they are (from the end
 * of the file meta information), streamed in chunks. The command and the first data PDUs leave in
 * one write; the next chunk is read while the previous one drains, and nothing more is written
 * until the socket has taken it (back-pressure). Two chunk buffers take turns: once the socket has
 * flushed everything, the one just written is free again. Memory is two chunks per association,
 * whatever the file size, and a big file leaves no garbage behind.
 */
export async function sendInstance(
  association: UlAssociation,
  contextId: number,
  command: Buffer,
  file: Part10File,
): Promise<void> {
  const buffers: Buffer[] = [];
  association.pDataBuffers(contextId, true, command, true, buffers);
  let chunk = file.head.subarray(file.datasetOffset);
  /** the chunk buffer that `chunk` lies in; the head is not one */
  let chunkBuffer: Buffer | undefined;
  let spare: Buffer | undefined;
  let readInto: Buffer | undefined;
  let position = file.head.length;
  for (;;) {
    const last = position >= file.size;
    let next: Promise<Buffer | Error> | undefined;
    if (!last) {
      readInto = spare ?? Buffer.allocUnsafe(CHUNK_BYTES);
      spare = undefined;
      next = readChunk(file.fd, position, Math.min(CHUNK_BYTES, file.size - position), readInto);
    }
    association.pDataBuffers(contextId, false, chunk, last, buffers);
    association.write(buffers);
    buffers.length = 0;
    await association.drained();
    if (next === undefined) return;
    if (association.flushed()) spare = chunkBuffer;
    const read = await next;
    if (read instanceof Error) throw new DatasetReadError(`read failed at byte ${position}: ${read.message}`);
    if (read.length === 0) {
      throw new DatasetReadError(
        `the file ended at byte ${position} while it was being sent, ${file.size} bytes expected`,
      );
    }
    chunkBuffer = readInto;
    chunk = read;
    position += read.length;
  }
}
