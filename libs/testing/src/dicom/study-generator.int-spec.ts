import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { orthancRest, runDcmtk, startPeers, type PeerEndpoints } from '../peers';
import { encodeText } from './character-sets';
import { generateStudy, type GeneratedStudy } from './study-generator';
import { generateWorklist, type GeneratedWorklist } from './worklist-generator';

// Generated data checked by third-party software: DCMTK parses it, Orthanc and storescp store it,
// wlmscpfs and Orthanc serve the worklist items.
jest.setTimeout(180_000);

const PATIENT_NAME = 'Иванов^Иван';

interface OrthancStudy {
  ID: string;
  Series: string[];
  PatientMainDicomTags: { PatientName?: string; PatientID?: string };
  MainDicomTags: { StudyInstanceUID?: string; AccessionNumber?: string };
}

let peers: PeerEndpoints;
let workDir: string;
let study: GeneratedStudy;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-int-'));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));
  study = await generateStudy(workDir, {
    series: 2,
    instancesPerSeries: 3,
    patient: { name: PATIENT_NAME, charset: 'ISO_IR 144' },
  });
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const hostPort = (peer: { host: string; port: number }): string[] => [peer.host, String(peer.port)];

async function findStudyInOrthanc(studyInstanceUid: string): Promise<OrthancStudy[]> {
  const found = await orthancRest(peers.orthanc, 'POST', '/tools/find', {
    Level: 'Study',
    Query: { StudyInstanceUID: studyInstanceUid },
    Expand: true,
  });
  return found as OrthancStudy[];
}

/** Sends a findscu -W query and returns the dcmdump text and raw bytes of each response. */
async function queryWorklist(
  scp: { aet: string; host: string; port: number },
  accessionNumber: string,
): Promise<Array<{ text: string; bytes: Buffer }>> {
  const responseDir = await mkdtemp(join(workDir, 'findscu-'));
  await runDcmtk('findscu', [
    '-W',
    ...['-aet', 'FINDSCU', '-aec', scp.aet],
    ...hostPort(scp),
    ...['-k', `AccessionNumber=${accessionNumber}`, '-k', 'PatientName', '-k', 'PatientID'],
    ...['-k', 'SpecificCharacterSet', '-X', '-od', responseDir],
  ]);
  const files = (await readdir(responseDir)).filter((name) => name.startsWith('rsp')).sort();
  return Promise.all(
    files.map(async (name) => {
      const { stdout, stdoutBytes } = await runDcmtk('dcmdump', [join(responseDir, name)]);
      return { text: stdout, bytes: stdoutBytes };
    }),
  );
}

it('writes files that DCMTK dcmdump parses, with the ISO_IR 144 name decoding to Cyrillic', async () => {
  expect(study.files).toHaveLength(6);
  for (const file of study.files) {
    // dcmdump exits non-zero on a file it cannot parse; +U8 converts per (0008,0005)
    const { stdout } = await runDcmtk('dcmdump', ['+U8', '+P', 'PatientName', '+P', 'SOPInstanceUID', file]);
    expect(stdout).toContain(`[${PATIENT_NAME}]`);
  }
});

it('is stored by Orthanc via storescu: 6 instances in 2 series, PatientName decoded to UTF-8', async () => {
  await runDcmtk('storescu', [
    '-aet',
    'STORESCU',
    '-aec',
    peers.orthanc.aet,
    ...hostPort(peers.orthanc),
    ...study.files,
  ]);
  const found = await findStudyInOrthanc(study.studyInstanceUid);
  cleanups.push(() =>
    Promise.all(found.map((s) => orthancRest(peers.orthanc, 'DELETE', `/studies/${s.ID}`))),
  );

  expect(found).toHaveLength(1);
  const [stored] = found;
  const instances = (await orthancRest(peers.orthanc, 'GET', `/studies/${stored.ID}/instances`)) as unknown[];
  expect(instances).toHaveLength(6);
  expect(stored.Series).toHaveLength(2);
  // Orthanc keeps the PN padding space when it converts to UTF-8
  expect(stored.PatientMainDicomTags.PatientName?.trimEnd()).toBe(PATIENT_NAME);
  expect(stored.PatientMainDicomTags.PatientID).toBe(study.patient.id);
  expect(stored.MainDicomTags.AccessionNumber).toBe(study.accessionNumber);
});

it('is stored by DCMTK storescp via storescu: one file per instance', async () => {
  await runDcmtk('storescu', [
    '-aet',
    'STORESCU',
    '-aec',
    peers.storescp.aet,
    ...hostPort(peers.storescp),
    ...study.files,
  ]);
  const sopInstanceUids = study.series.flatMap((s) => s.instances.map((i) => i.sopInstanceUid));
  // storescp -uf names files <Modality>.<SOPInstanceUID>
  const received = (await readdir(peers.storescp.dir)).filter((name) =>
    sopInstanceUids.some((uid) => name.endsWith(`.${uid}`)),
  );
  cleanups.push(() =>
    Promise.all(received.map((name) => rm(join(peers.storescp.dir, name), { force: true }))),
  );

  expect(received).toHaveLength(6);
  expect(received.every((name) => name.startsWith('CT.'))).toBe(true);
});

describe('worklist files', () => {
  async function worklistIn(dir: string): Promise<GeneratedWorklist> {
    const worklist = await generateWorklist(dir, { patient: { name: PATIENT_NAME, charset: 'ISO_IR 144' } });
    cleanups.push(() => rm(worklist.file, { force: true }));
    return worklist;
  }

  it('are found by findscu -W against wlmscpfs, which returns the raw bytes undeclared', async () => {
    const worklist = await worklistIn(peers.wlm.dir);
    const responses = await queryWorklist(peers.wlm, worklist.accessionNumber);

    expect(responses).toHaveLength(1);
    const [{ text, bytes }] = responses;
    expect(text).toContain(`[${worklist.accessionNumber}]`);
    expect(text).toContain(`[${worklist.patient.id}]`);
    // wlmscpfs drops (0008,0005), so the ISO-8859-5 bytes arrive with nothing saying what they are
    expect(text).not.toContain('(0008,0005)');
    expect(bytes.includes(encodeText(PATIENT_NAME, 'ISO_IR 144'))).toBe(true);
  });

  it('are found by findscu -W against Orthanc, which answers in UTF-8', async () => {
    const worklist = await worklistIn(peers.orthanc.worklistDir);
    const responses = await queryWorklist(peers.orthanc, worklist.accessionNumber);

    expect(responses).toHaveLength(1);
    expect(responses[0].text).toContain('(0008,0005) CS [ISO_IR 192]');
    expect(responses[0].text).toContain(`[${PATIENT_NAME}]`);
  });
});
