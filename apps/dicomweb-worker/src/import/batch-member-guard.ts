import { readPart10Meta } from '@pacslink/dicom';

/**
 * A part of a WADO-RS answer holding an instance the batch does not name (the PACS sent more than
 * asked: a series that grew since the plan, or a PACS that ignores the instance in the URL).
 */
export class NotInBatchError extends Error {
  override readonly name = 'NotInBatchError';

  constructor(readonly sopInstanceUid: string) {
    super(`the PACS sent instance ${sopInstanceUid}, which the batch does not name: not kept`);
  }
}

/**
 * Passes a Part 10 stream on, chunk by chunk as it is read (pull: no read-ahead), after checking the
 * SOP Instance UID of its File Meta Information (0002,0003) against `inBatch`: an instance the batch
 * does not name throws NotInBatchError before its first byte past the meta header goes on, so the
 * study store's write removes its temporary file and never renames it over a file it already holds.
 * The store refuses a file whose meta and data set UIDs differ (PS3.10 7.1), so the meta's UID is
 * the stored file's. A meta header that cannot be read is passed on unchecked: the store refuses
 * it with its own reason.
 */
export async function* onlyBatchMembers(
  source: AsyncIterable<Buffer>,
  inBatch: (sopInstanceUid: string) => boolean,
): AsyncGenerator<Buffer> {
  // The bytes up to the end of the meta header (readPart10Meta never needs more than 64 KiB).
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const chunk of source) {
    if (head !== undefined) {
      head = Buffer.concat([head, chunk]);
      const read = readPart10Meta(head, false);
      if (read.status === 'complete' && !inBatch(read.meta.sopInstanceUid)) {
        throw new NotInBatchError(read.meta.sopInstanceUid);
      }
      if (read.status !== 'incomplete') head = undefined;
    }
    yield chunk;
  }
}
