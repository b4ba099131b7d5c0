import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InstanceOutcomeData } from '@pacslink/contracts';
import { DicomwebClient, type DicomwebEndpoint } from '@pacslink/dicomweb';
import { STORABLE_TRANSFER_SYNTAXES, StudyStore } from '@pacslink/store';
import {
  deleteStudyFromOrthanc,
  generateStudy,
  runDcmtk,
  startPeers,
  testEgressGuard,
  type GeneratedStudy,
  type PeerEndpoints,
} from '@pacslink/testing';
import { COMPLETE_ANSWER_GRACE_MS, retrieveBatch } from './batch-retrieval';

// Orthanc 1.10.1 / DICOMweb plugin 1.7 answers WADO-RS with `Connection: close` (no length, not
// chunked). Read as slowly as a study store writes, undici 6.29 met the FIN with its parser paused
// and threw an AssertionError out of the socket's 'end' event (nodejs/undici#5360): the process
// would end; under jest the answer then stayed open after its last part (the "stall" of the
// libs/dicomweb README). Seen in 7 of 10 runs here without libs/dicomweb's paused-parser-end.ts.
// The real client and store; the store leaves each part unread for 60 ms.
jest.setTimeout(240_000);

const RUNS = 10;
const TIMEOUT_MS = 15_000;
let peers: PeerEndpoints;
let workDir: string;
let study: GeneratedStudy;
const client = new DicomwebClient({ egress: testEgressGuard() });

beforeAll(async () => {
  peers = await startPeers();
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-orthanc-stall-'));
  study = await generateStudy(join(workDir, 'study'), { series: 1, instancesPerSeries: 50 });
  const { aet, host, port } = peers.orthanc;
  await runDcmtk('storescu', ['-aet', 'STORESCU', '-aec', aet, host, String(port), ...study.files]);
});

afterAll(async () => {
  await client.close();
  if (study) await deleteStudyFromOrthanc(peers.orthanc, study.studyInstanceUid);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

it(`a series answer read slowly completes, the process alive (${RUNS} runs)`, async () => {
  const endpoint: DicomwebEndpoint = {
    url: peers.orthanc.dicomWebUrl,
    auth: { method: 'basic', username: peers.orthanc.user, password: peers.orthanc.password },
    pacsAeTitle: peers.orthanc.aet,
    timeoutMs: TIMEOUT_MS,
  };
  const [series] = study.series;
  const notes: string[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const store = new StudyStore(await mkdtemp(join(workDir, 'store-')));
    const outcomes: InstanceOutcomeData[] = [];
    const started = Date.now();
    await retrieveBatch(
      {
        retrieve: (request, handle) => client.retrieveResource(endpoint, request, handle),
        // each part left unread for 60 ms: the socket fills and Orthanc waits on it
        write: async (part) => {
          await new Promise((resolve) => setTimeout(resolve, 60));
          return store.write(part);
        },
        note: (message) => notes.push(message),
        timeoutMs: TIMEOUT_MS,
        acceptTransferSyntaxes: STORABLE_TRANSFER_SYNTAXES,
      },
      {
        studyInstanceUid: study.studyInstanceUid,
        instances: series.instances.map((instance) => ({
          sopInstanceUid: instance.sopInstanceUid,
          seriesInstanceUid: series.seriesInstanceUid,
          sopClassUid: instance.sopClassUid,
        })),
        wholeSeries: [series.seriesInstanceUid],
      },
      { outcome: (outcome) => outcomes.push(outcome) },
      new AbortController().signal,
    );
    expect(outcomes.filter((outcome) => outcome.status === 'success')).toHaveLength(50);
    // a stall costs the grace, never the endpoint's timeout
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
  }
  // How often Orthanc stalled in these runs (the note), for whoever reads the test's output.
  process.stdout.write(
    `an answer stayed open after its last instance in ${notes.length} of ${RUNS} runs (closed after ${COMPLETE_ANSWER_GRACE_MS} ms)\n`,
  );
});
