import { createWriteStream } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { once } from 'node:events';
import { runDcmtk, type GeneratedInstance } from '@pacslink/testing';
import type { StoreInstance } from '../../src';
import { parseMetaHeader } from '../../src/store/part10-file';

export const SopClassUid = {
  CTImageStorage: '1.2.840.10008.5.1.4.1.1.2',
  SecondaryCaptureImageStorage: '1.2.840.10008.5.1.4.1.1.7',
} as const;

export const TransferSyntaxUid = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;

export function storeInstanceOf(
  instance: GeneratedInstance,
  transferSyntaxUid: string = TransferSyntaxUid.ExplicitVRLittleEndian,
): StoreInstance {
  return {
    path: instance.file,
    sopClassUid: instance.sopClassUid,
    sopInstanceUid: instance.sopInstanceUid,
    transferSyntaxUid,
  };
}

/** The data set bytes of a Part 10 file (everything after its meta header). */
export function datasetBytes(file: Buffer): Buffer {
  const parsed = parseMetaHeader(file.subarray(0, 64 * 1024), file.length);
  if ('reason' in parsed) throw new Error(parsed.reason);
  return file.subarray(parsed.datasetOffset);
}

export async function datasetBytesOf(path: string): Promise<Buffer> {
  return datasetBytes(await readFile(path));
}

/** Rewrites a generated CT file in place with DCMTK: Implicit VR LE, RLE Lossless, or as Secondary Capture. */
export async function convertInPlace(
  path: string,
  to: 'implicit' | 'rle' | 'secondary-capture',
): Promise<void> {
  const out = `${path}.converted`;
  switch (to) {
    case 'implicit':
      await runDcmtk('dcmconv', ['+ti', path, out]);
      break;
    case 'rle':
      await runDcmtk('dcmcrle', [path, out]);
      break;
    case 'secondary-capture':
      // dcmodify also updates (0002,0002) from the data set (its default, see --no-meta-uid)
      await runDcmtk('dcmodify', [
        '-nb',
        '-m',
        `(0008,0016)=${SopClassUid.SecondaryCaptureImageStorage}`,
        path,
      ]);
      return;
  }
  await rename(out, path);
}

const MiB = 1024 * 1024;

/**
 * A Part 10 file of about `megabytes` MB written in 1 MB pieces (never whole in memory): the meta
 * header and the elements of a small generated CT file up to its Pixel Data, then Rows = Columns
 * patched so that the Pixel Data, 16-bit zeros, matches them.
 */
export async function writeBigCopy(smallCtFile: string, target: string, side: number): Promise<number> {
  const small = await readFile(smallCtFile);
  const pixelTag = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57, 0x00, 0x00]); // (7FE0,0010) OW
  const at = small.indexOf(pixelTag);
  if (at < 0) throw new Error(`${smallCtFile}: no OW Pixel Data element found`);
  const head = Buffer.from(small.subarray(0, at + 12));
  for (const element of [0x0010, 0x0011]) {
    const tag = Buffer.from([0x28, 0x00, element, 0x00, 0x55, 0x53, 0x02, 0x00]); // (0028,001x) US 2
    const where = head.indexOf(tag);
    if (where < 0) throw new Error(`${smallCtFile}: no (0028,${element.toString(16)}) US element`);
    head.writeUInt16LE(side, where + 8);
  }
  const pixelBytes = side * side * 2;
  head.writeUInt32LE(pixelBytes, at + 8);
  const out = createWriteStream(target);
  out.write(head);
  const zeros = Buffer.alloc(MiB);
  for (let left = pixelBytes; left > 0; left -= MiB) {
    if (!out.write(left >= MiB ? zeros : zeros.subarray(0, left))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return head.length + pixelBytes;
}
