import { storeIo } from '@pacslink/store';
import type { UlAssociation } from '../upper-layer/ul-association';
import type { Part10File } from './part10-file';

/** Read size after the head: large enough for few reads, small enough to keep memory flat. */
export const CHUNK_BYTES = 256 * 1024;

/** The file could not be read to its end while its data set was going out; the association is unusable. */
export class DatasetReadError extends Error {
  override readonly name = 'DatasetReadError';
}

async function readChunk(file: Part10File, position: number, into: Buffer): Promise<Buffer> {
  let bytesRead: number;
  try {
    bytesRead = await storeIo().read(file.fd, into, 0, Math.min(into.length, file.size - position), position);
  } catch (error) {
    throw new DatasetReadError(
      `read failed at byte ${position}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (bytesRead === 0) {
    throw new DatasetReadError(
      `the file ended at byte ${position} while it was being sent, ${file.size} bytes expected`,
    );
  }
  return into.subarray(0, bytesRead);
}

/**
 * Sends one C-STORE-RQ: the command set, then the stored data set bytes as they are (from the end
 * of the file meta information), in chunks. The command and the first data PDUs leave in one
 * write, and nothing more is written until the socket has taken the previous chunk (back-pressure).
 * Once the socket has flushed everything, the chunk buffer is free again and is reused: memory is
 * one chunk per association whatever the file size, and a big file leaves no garbage behind.
 *
 * Chunks are read through the store's file I/O, like the head (see part10-file.ts): synchronously on
 * a local disk, where the socket takes 256 KB at once on a healthy peer, so an asynchronous read
 * could not overlap anything and its thread-pool round trip cost more wall time than the copy from
 * the page cache (docs/performance/c-store.md); in the pool on network storage.
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
  let position = file.head.length;
  let chunkBuffer: Buffer | undefined;
  for (;;) {
    const last = position >= file.size;
    association.pDataBuffers(contextId, false, chunk, last, buffers);
    association.write(buffers);
    buffers.length = 0;
    await association.drained();
    if (last) return;
    if (chunkBuffer === undefined || !association.flushed()) chunkBuffer = Buffer.allocUnsafe(CHUNK_BYTES);
    chunk = await readChunk(file, position, chunkBuffer);
    position += chunk.length;
  }
}
