import { readFile } from 'node:fs/promises';
import { orthancRest, type GeneratedInstance, type OrthancPeer } from '@pacslink/testing';
import type { PacsProbe } from './pacs-probe';
import type { Storescp } from './storescp';

/**
 * The data set of a Part 10 file: what must reach the PACS unchanged (the meta header is each
 * side's own, PS3.10 7.1). The meta group's length is (0002,0000) UL right after "DICM".
 */
export function datasetOf(file: Buffer): Buffer {
  if (file.toString('latin1', 128, 132) !== 'DICM' || file.readUInt32LE(132) !== 0x00000002) {
    throw new Error('not a Part 10 file with (0002,0000) first');
  }
  return file.subarray(144 + file.readUInt32LE(140));
}

/** Where a PACS keeps what it received, to compare with what was uploaded. */
export type PacsStorage =
  | { kind: 'orthanc'; orthanc: OrthancPeer }
  | { kind: 'storescp'; storescp: Storescp }
  /** Down, rejecting or trickling: nothing is ever stored there. */
  | { kind: 'none' };

/** A PACS configuration of a case, the relay it is reached through (if any) and its storage. */
export interface SuitePacs {
  name: string;
  configId: string;
  storage: PacsStorage;
  probe?: PacsProbe;
  /** DIMSE: the configuration's maxAssociations, which the probe's maxOpen must respect. */
  maxAssociations?: number;
}

async function orthancFile(orthanc: OrthancPeer, sopInstanceUid: string): Promise<Buffer | undefined> {
  const [id] = (await orthancRest(orthanc, 'POST', '/tools/find', {
    Level: 'Instance',
    Query: { SOPInstanceUID: sopInstanceUid },
  })) as string[];
  if (id === undefined) return undefined;
  const response = await fetch(new URL(`/instances/${id}/file`, orthanc.httpUrl), {
    headers: {
      authorization: `Basic ${Buffer.from(`${orthanc.user}:${orthanc.password}`).toString('base64')}`,
    },
  });
  if (!response.ok) throw new Error(`Orthanc /instances/${id}/file: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** What is wrong with the instance at the PACS (missing, or other bytes), or undefined if it is as sent. */
export async function storedProblem(
  pacs: SuitePacs,
  instance: GeneratedInstance,
): Promise<string | undefined> {
  const { storage } = pacs;
  const stored =
    storage.kind === 'orthanc'
      ? await orthancFile(storage.orthanc, instance.sopInstanceUid)
      : storage.kind === 'storescp'
        ? await storage.storescp.received('CT', instance.sopInstanceUid)
        : undefined;
  if (stored === undefined) return `${instance.sopInstanceUid} is not at ${pacs.name}`;
  if (!datasetOf(stored).equals(datasetOf(await readFile(instance.file)))) {
    return `${instance.sopInstanceUid} at ${pacs.name} differs from the uploaded file`;
  }
  return undefined;
}
