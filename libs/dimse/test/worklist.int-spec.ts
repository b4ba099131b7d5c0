import { rm } from 'node:fs/promises';
import type { DicomJsonPersonName } from '@pacslink/dicom';
import {
  generateWorklist,
  randomId,
  startPeers,
  testEgressGuard,
  type GeneratedWorklist,
  type PeerEndpoints,
} from '@pacslink/testing';
import { findWorklist, type DimseConnectionOptions, type WorklistMatch } from '../src';

// Modality Worklist C-FIND against DCMTK wlmscpfs (which drops (0008,0005): its answers carry the
// file's bytes undeclared) and Orthanc's worklist plugin (UTF-8, declared).
jest.setTimeout(60_000);

let peers: PeerEndpoints;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  peers = await startPeers();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function connection(peer: PeerEndpoints['wlm'] | PeerEndpoints['orthanc']): DimseConnectionOptions {
  return {
    host: peer.host,
    port: peer.port,
    callingAeTitle: 'PACSLINK',
    calledAeTitle: peer.aet,
    connectTimeoutMs: 5_000,
    associationTimeoutMs: 5_000,
    pduTimeoutMs: 5_000,
    egress: testEgressGuard(),
  };
}

async function worklistIn(dir: string, charset: 'ISO_IR 144' | 'ISO_IR 100'): Promise<GeneratedWorklist> {
  const worklist = await generateWorklist(dir, {
    patient: { charset },
    scheduledStationAETitle: randomId('ST', 4),
    scheduledDate: '20260315',
  });
  cleanups.push(() => rm(worklist.file, { force: true }));
  return worklist;
}

const nameOf = (match: WorklistMatch): string | undefined =>
  (match.dataset['00100010']?.Value?.[0] as DicomJsonPersonName | undefined)?.Alphabetic;
const stepOf = (match: WorklistMatch): Record<string, { Value?: unknown[] }> =>
  match.dataset['00400100']?.Value?.[0] as Record<string, { Value?: unknown[] }>;

describe('findWorklist', () => {
  it('reads wlmscpfs answers by the configured encoding, the step sequence included (ISO_IR 144)', async () => {
    const worklist = await worklistIn(peers.wlm.dir, 'ISO_IR 144');
    const matches = await findWorklist(connection(peers.wlm), {
      stepKeys: {
        ScheduledStationAETitle: worklist.scheduledStationAETitle,
        ScheduledProcedureStepStartDate: '20260301-20260331',
      },
      fallbackCharset: 'ISO_IR 144',
    });
    expect(matches).toHaveLength(1);
    const [match] = matches;
    expect(match.undecodable).toEqual([]);
    expect(match.dataset['00080005']).toBeUndefined();
    expect(nameOf(match)).toBe(worklist.patient.name);
    expect(match.dataset['00080050']?.Value).toEqual([worklist.accessionNumber]);
    expect(stepOf(match)['00400007']?.Value).toEqual(['КТ с контрастом']);
    expect(stepOf(match)['00400009']?.Value).toEqual([worklist.scheduledProcedureStepId]);
  });

  it('reads ISO_IR 100 likewise, and reports (not replaces silently) a name the configured set cannot decode', async () => {
    const worklist = await worklistIn(peers.wlm.dir, 'ISO_IR 100');
    const query = { stepKeys: { ScheduledStationAETitle: worklist.scheduledStationAETitle } };
    const [latin] = await findWorklist(connection(peers.wlm), { ...query, fallbackCharset: 'ISO_IR 100' });
    expect(nameOf(latin)).toBe('Müller^Jürgen');
    expect(latin.undecodable).toEqual([]);

    const [wrong] = await findWorklist(connection(peers.wlm), { ...query, fallbackCharset: 'ISO_IR 192' });
    // The name and the requested procedure's 'CT Thorax, Übersicht': Latin-1 bytes are not UTF-8.
    expect(wrong.undecodable).toEqual([['00100010'], ['00321060']]);
    expect(nameOf(wrong)).toBe('M\uFFFDller^J\uFFFDrgen');
  });

  it('reads Orthanc worklist answers by their own (0008,0005) whatever the fallback', async () => {
    const worklist = await worklistIn(peers.orthanc.worklistDir, 'ISO_IR 144');
    const matches = await findWorklist(connection(peers.orthanc), {
      stepKeys: { ScheduledStationAETitle: worklist.scheduledStationAETitle },
      fallbackCharset: 'ISO_IR 100',
    });
    expect(matches).toHaveLength(1);
    expect(nameOf(matches[0])).toBe(worklist.patient.name);
    expect(matches[0].undecodable).toEqual([]);
  });
});
