import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { encodeDataset, encodeFileMeta, type DicomDataset } from './dicom-writer';
import { dicomDate, resolvePatient } from './sample-values';
import { Tag } from './tags';
import { newUid, SopClass } from './uids';

export interface MultiFrameOptions {
  frames: number;
  /** 16-bit pixels: each frame is rows × cols × 2 bytes */
  rows: number;
  cols: number;
}

export interface GeneratedMultiFrame {
  file: string;
  bytes: number;
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
}

/** PS3.5 7.1.2: OW has a 4-byte length; no frame set of ours nears 4 GB. */
const MAX_PIXEL_BYTES = 0xfffffffe;

/**
 * Writes one Multi-frame Grayscale Word Secondary Capture instance (Explicit VR Little Endian) of
 * `frames` frames to `path`, a frame at a time: a file of hundreds of MB is never whole in memory.
 * Every frame carries its own number in its first pixel, so no two frames are the same bytes.
 */
export async function writeMultiFrameInstance(
  path: string,
  options: MultiFrameOptions,
): Promise<GeneratedMultiFrame> {
  const frameBytes = options.rows * options.cols * 2;
  const pixelBytes = frameBytes * options.frames;
  if (pixelBytes > MAX_PIXEL_BYTES) throw new Error(`${pixelBytes} bytes of pixels do not fit an OW length`);
  const patient = resolvePatient();
  const instance = {
    sopClassUid: SopClass.MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    sopInstanceUid: newUid(),
    studyInstanceUid: newUid(),
    seriesInstanceUid: newUid(),
  };
  const dataset: DicomDataset = [
    [Tag.SOPClassUID, 'UI', instance.sopClassUid],
    [Tag.SOPInstanceUID, 'UI', instance.sopInstanceUid],
    [Tag.StudyDate, 'DA', dicomDate()],
    [Tag.Modality, 'CS', 'OT'],
    [Tag.PatientName, 'PN', patient.name],
    [Tag.PatientID, 'LO', patient.id],
    [Tag.StudyInstanceUID, 'UI', instance.studyInstanceUid],
    [Tag.SeriesInstanceUID, 'UI', instance.seriesInstanceUid],
    [Tag.InstanceNumber, 'IS', '1'],
    [Tag.SamplesPerPixel, 'US', 1],
    [Tag.PhotometricInterpretation, 'CS', 'MONOCHROME2'],
    [Tag.NumberOfFrames, 'IS', String(options.frames)],
    [Tag.Rows, 'US', options.rows],
    [Tag.Columns, 'US', options.cols],
    [Tag.BitsAllocated, 'US', 16],
    [Tag.BitsStored, 'US', 12],
    [Tag.HighBit, 'US', 11],
    [Tag.PixelRepresentation, 'US', 0],
  ];
  const pixelHeader = Buffer.alloc(12);
  pixelHeader.writeUInt16LE(Tag.PixelData >>> 16, 0);
  pixelHeader.writeUInt16LE(Tag.PixelData & 0xffff, 2);
  pixelHeader.write('OW', 4, 'latin1');
  pixelHeader.writeUInt32LE(pixelBytes, 8);
  const head = [encodeFileMeta(instance), ...encodeDataset(dataset), pixelHeader];

  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  // Awaited only in races; a failure after the last of them must not be an unhandled rejection.
  failed.catch(() => undefined);
  const write = async (chunk: Buffer): Promise<void> => {
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
  };
  for (const chunk of head) await write(chunk);
  const gradient = Buffer.alloc(frameBytes);
  for (let offset = 0; offset < frameBytes; offset += 2)
    gradient.writeUInt16LE((offset >>> 1) & 0x0fff, offset);
  for (let frame = 0; frame < options.frames; frame += 1) {
    // A copy per frame: the stream may still hold the previous one.
    const pixels = Buffer.from(gradient);
    pixels.writeUInt16LE(frame & 0x0fff, 0);
    await write(pixels);
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  return { file: path, bytes: head.reduce((sum, chunk) => sum + chunk.length, 0) + pixelBytes, ...instance };
}
