import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deleteStudyFromOrthanc, type OrthancPeer } from '@pacslink/testing';
import { countInstances, type BenchPeers } from '../export/bench-orthanc';
import type { Scenario } from '../export/measure';
import { runTool } from '../export/run-tool';
import type { BenchStudy } from '../export/studies';

const TOOL_TIMEOUT_MS = 15 * 60_000;
/** WADO-RS of a whole study in any stored transfer syntax, as pacslink asks for it. */
const ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*';

async function emptyDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true });
  for (const name of await readdir(directory))
    await rm(join(directory, name), { recursive: true, force: true });
}

async function expectFiles(directory: string, study: BenchStudy, who: string): Promise<void> {
  const received = (await readdir(directory)).length;
  if (received !== study.files.length)
    throw new Error(`${who} wrote ${received} of ${study.files.length} files`);
}

/** The wire's reference: one curl of the study's WADO-RS URL, the body thrown away. */
export function curlStudy(orthanc: OrthancPeer, study: BenchStudy): Scenario {
  return {
    name: 'reference: curl of the WADO-RS study URL',
    kind: 'reference',
    study,
    run: async () => {
      const [status, size] = (
        await runTool(
          'curl',
          [
            '-sS',
            '-o',
            '/dev/null',
            '-w',
            '%{http_code} %{size_download}',
            '-u',
            `${orthanc.user}:${orthanc.password}`,
            '-H',
            `Accept: ${ACCEPT}`,
            `${orthanc.dicomWebUrl}/studies/${study.studyInstanceUid}`,
          ],
          TOOL_TIMEOUT_MS,
        )
      )
        .trim()
        .split(' ');
      if (status !== '200' || Number(size) < study.totalBytes) {
        throw new Error(`curl got HTTP ${status} with ${size} bytes for a study of ${study.totalBytes}`);
      }
    },
  };
}

/**
 * What a user would use instead of a WADO-RS import: a second Orthanc retrieving the study over
 * WADO-RS into its own storage (its DICOMweb client, POST /dicom-web/servers/{id}/retrieve).
 */
export function orthancWadoRetrieve(
  source: OrthancPeer,
  retriever: OrthancPeer,
  study: BenchStudy,
): Scenario {
  const auth = `Basic ${Buffer.from(`${retriever.user}:${retriever.password}`).toString('base64')}`;
  const call = async (method: 'PUT' | 'POST', path: string, body: unknown) => {
    const response = await fetch(new URL(path, retriever.httpUrl), {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TOOL_TIMEOUT_MS),
    });
    if (!response.ok)
      throw new Error(`Orthanc ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
  return {
    name: 'Orthanc retrieving over WADO-RS',
    kind: 'orthanc-wado',
    study,
    prepare: async () => {
      await deleteStudyFromOrthanc(retriever, study.studyInstanceUid);
      await call('PUT', '/dicom-web/servers/bench-source', {
        Url: source.dicomWebUrl,
        Username: source.user,
        Password: source.password,
      });
    },
    run: () =>
      call('POST', '/dicom-web/servers/bench-source/retrieve', {
        Resources: [{ Study: study.studyInstanceUid }],
      }),
    verify: async () => {
      const stored = await countInstances(retriever, study.studyInstanceUid);
      if (stored !== study.files.length)
        throw new Error(`the second Orthanc holds ${stored} of ${study.files.length}`);
    },
  };
}

/** DCMTK getscu from Orthanc into a directory (GETSCU is one of Orthanc's known modalities). */
export function getscu(orthanc: OrthancPeer, study: BenchStudy, directory: string): Scenario {
  return {
    name: 'DCMTK getscu',
    kind: 'getscu',
    study,
    prepare: () => emptyDirectory(directory),
    run: async () => {
      await runTool(
        'getscu',
        [
          '-aet',
          'GETSCU',
          '-aec',
          orthanc.aet,
          orthanc.host,
          String(orthanc.port),
          '-S',
          '-k',
          'QueryRetrieveLevel=STUDY',
          '-k',
          `StudyInstanceUID=${study.studyInstanceUid}`,
          '-od',
          directory,
        ],
        TOOL_TIMEOUT_MS,
      );
    },
    verify: () => expectFiles(directory, study, 'getscu'),
  };
}

/** DCMTK movescu asking Orthanc to send the study to DCMTK storescp. */
export function movescuToStorescp(
  orthanc: OrthancPeer,
  storescp: BenchPeers['storescp'],
  study: BenchStudy,
): Scenario {
  return {
    name: 'DCMTK movescu -> storescp',
    kind: 'movescu',
    study,
    prepare: () => emptyDirectory(storescp.dir),
    run: async () => {
      await runTool(
        'movescu',
        [
          '-aet',
          'MOVESCU_DCMTK',
          '-aec',
          orthanc.aet,
          '-aem',
          storescp.aet,
          orthanc.host,
          String(orthanc.port),
          '-S',
          '-k',
          'QueryRetrieveLevel=STUDY',
          '-k',
          `StudyInstanceUID=${study.studyInstanceUid}`,
        ],
        TOOL_TIMEOUT_MS,
      );
    },
    verify: () => expectFiles(storescp.dir, study, 'storescp'),
  };
}
