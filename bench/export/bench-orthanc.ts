import { join } from 'node:path';
import {
  orthancRest,
  startPeers,
  stopPeers,
  type DicomPeer,
  type OrthancPeer,
  freePort,
} from '@pacslink/testing';
import type { Cleanup } from './cleanup';
import { log } from './log';

export interface BenchPeers {
  orthanc: OrthancPeer;
  /** DCMTK storescp, for the storescu → storescp reference; writes into `dir`. */
  storescp: DicomPeer & { dir: string };
}

/**
 * An Orthanc (and storescp) of the benchmark's own, on free ports and with its data under
 * `workDir`: started through scripts/test-peers.sh (TCP_NODELAY=1, the test suite's config) and
 * stopped by the same script, which only ever stops processes started from that data dir.
 */
export async function startBenchPeers(workDir: string, cleanup: Cleanup): Promise<BenchPeers> {
  const dataDir = join(workDir, 'peers');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PEERS_TCP_NODELAY: '1',
    ORTHANC_DICOM_PORT: String(await freePort()),
    ORTHANC_HTTP_PORT: String(await freePort()),
    STORESCP_PORT: String(await freePort()),
    WLM_PORT: String(await freePort()),
  };
  cleanup.add(`stop the benchmark's Orthanc (${dataDir})`, () => stopPeers({ dataDir }));
  log(`starting Orthanc and storescp from ${dataDir}`);
  const peers = await startPeers({ dataDir, env });
  return { orthanc: peers.orthanc, storescp: peers.storescp };
}

/** Orthanc's own id of a study, or undefined when it holds none. */
async function orthancStudyId(orthanc: OrthancPeer, studyInstanceUid: string): Promise<string | undefined> {
  // Without Expand, /tools/find answers Orthanc's own ids.
  const ids = (await orthancRest(orthanc, 'POST', '/tools/find', {
    Level: 'Study',
    Query: { StudyInstanceUID: studyInstanceUid },
  })) as string[];
  return ids[0];
}

export async function countInstances(orthanc: OrthancPeer, studyInstanceUid: string): Promise<number> {
  const id = await orthancStudyId(orthanc, studyInstanceUid);
  if (!id) return 0;
  const statistics = (await orthancRest(orthanc, 'GET', `/studies/${id}/statistics`)) as {
    CountInstances: number;
  };
  return statistics.CountInstances;
}

/** Fails a run that did not land every instance in Orthanc. */
export async function expectStudyComplete(
  orthanc: OrthancPeer,
  studyInstanceUid: string,
  instances: number,
): Promise<void> {
  const stored = await countInstances(orthanc, studyInstanceUid);
  if (stored !== instances) {
    throw new Error(`Orthanc holds ${stored} of the study's ${instances} instances after the run`);
  }
}
