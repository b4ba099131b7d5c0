import { loadavg } from 'node:os';
import type { BenchStudy } from '../export/studies';
import type { EngineStack } from './engine-stack';

const CLAIM = 'config-service.export-batch.claim';
const COMMAND = 'dimse.export-batch';
const FINISHED = 'config-service.export-batch.finished';
const PROGRESS = 'config-service.export-batch.progress';

/** Milestones of one 1-instance export, ms after POST /transfers was sent. */
export interface FirstInstanceRun {
  load: number;
  milestones: Record<FirstMilestone, number | undefined>;
}

export const FIRST_MILESTONES = [
  'HTTP 202',
  'command published',
  'claim asked',
  'TCP connect',
  'A-ASSOCIATE-RQ',
  'A-ASSOCIATE-AC',
  'first P-DATA',
  'transfer.started',
  'transfer.completed',
] as const;
export type FirstMilestone = (typeof FIRST_MILESTONES)[number];

/** One export of the many-instance study: its associations and the gaps between them. */
export interface BatchGapRun {
  load: number;
  seconds: number;
  associations: number;
  commands: number;
  claims: number;
  /** Last C-STORE-RSP of association n to the first P-DATA of association n+1, ms. */
  gaps: number[];
  /** Per gap, ms after that last C-STORE-RSP: release, finished report, next command, its claim, next A-ASSOCIATE-RQ. */
  gapMilestones: Record<GapMilestone, number | undefined>[];
}

export const GAP_MILESTONES = [
  'A-RELEASE-RQ',
  'A-RELEASE-RP',
  'connection closed',
  'last progress report',
  'finished report',
  'next command',
  'next claim',
  'next A-ASSOCIATE-RQ',
] as const;
export type GapMilestone = (typeof GAP_MILESTONES)[number];

const ms = (from: bigint, to: bigint | undefined): number | undefined =>
  to === undefined ? undefined : Number(to - from) / 1e6;

async function postExport(stack: EngineStack, study: BenchStudy): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/transfers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      direction: 'export',
      pacsConfigId: stack.pacsConfigId,
      studyInstanceUid: study.studyInstanceUid,
    }),
  });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`POST /transfers answered ${response.status}: ${text}`);
  return (JSON.parse(text) as { id: string }).id;
}

/** POST /transfers of a 1-instance study, timed on the wire up to its first P-DATA-TF. */
export async function firstInstanceRun(stack: EngineStack, study: BenchStudy): Promise<FirstInstanceRun> {
  const load = loadavg()[0];
  const posted = process.hrtime.bigint();
  const id = await postExport(stack, study);
  const answered = process.hrtime.bigint();
  await stack.taps.waitForEnd(id, 60_000);
  const [association] = stack.proxy.openedSince(posted);
  const { taps } = stack;
  return {
    load,
    milestones: {
      'HTTP 202': ms(posted, answered),
      'command published': ms(posted, taps.times(id, COMMAND)[0]),
      'claim asked': ms(posted, taps.times(id, CLAIM)[0]),
      'TCP connect': ms(posted, association?.openedAt),
      'A-ASSOCIATE-RQ': ms(posted, association?.associateRqAt),
      'A-ASSOCIATE-AC': ms(posted, association?.associateAcAt),
      'first P-DATA': ms(posted, association?.firstCallerPDataAt),
      'transfer.started': ms(posted, taps.times(id, 'transfer.started')[0]),
      'transfer.completed': ms(posted, taps.times(id, 'transfer.completed')[0]),
    },
  };
}

/** POST /transfers of a many-instance study: associations, claims and the gaps between batches. */
export async function batchGapRun(stack: EngineStack, study: BenchStudy): Promise<BatchGapRun> {
  const load = loadavg()[0];
  const posted = process.hrtime.bigint();
  const id = await postExport(stack, study);
  await stack.taps.waitForEnd(id, 300_000);
  const { taps } = stack;
  const ended = taps.times(id, 'transfer.completed')[0];
  const associations = stack.proxy.openedSince(posted).filter((a) => a.callerPData > 0);
  const commands = taps.times(id, COMMAND);
  const claims = taps.times(id, CLAIM);
  const finished = taps.times(id, FINISHED);
  const gaps: number[] = [];
  const gapMilestones: BatchGapRun['gapMilestones'] = [];
  for (let n = 1; n < associations.length; n++) {
    const last = associations[n - 1].lastPeerPDataAt;
    const next = associations[n];
    if (last === undefined || next.firstCallerPDataAt === undefined) continue;
    gaps.push(Number(next.firstCallerPDataAt - last) / 1e6);
    const after = (times: bigint[]) => times.find((t) => t >= last);
    gapMilestones.push({
      'A-RELEASE-RQ': ms(last, associations[n - 1].releaseRqAt),
      'A-RELEASE-RP': ms(last, associations[n - 1].releaseRpAt),
      'connection closed': ms(last, associations[n - 1].closedAt),
      // Before the last C-STORE-RSP: negative. The finished report waits for its confirm.
      'last progress report': ms(
        last,
        [...taps.times(id, PROGRESS)].reverse().find((t) => t < (after(finished) ?? 0n)),
      ),
      'finished report': ms(last, after(finished)),
      'next command': ms(last, after(commands)),
      'next claim': ms(last, after(claims)),
      'next A-ASSOCIATE-RQ': ms(last, next.associateRqAt),
    });
  }
  return {
    load,
    seconds: ended === undefined ? NaN : Number(ended - posted) / 1e9,
    associations: associations.length,
    commands: commands.length,
    claims: claims.length,
    gaps,
    gapMilestones,
  };
}
