import { settleCase, type CaseTransfer } from './support/end-state';
import { faultSuite } from './support/fault-suite';
import { startRejectingScp, startTricklingStow, type Rejection } from './support/misbehaving-peers';
import { freePort } from '@pacslink/testing';

// PACS that misbehave: slow, down, rejecting (docs/testing/fault-suite.md). A failure the PACS
// causes must stay with that PACS and cost no more tries than it is worth.
const MAX_ATTEMPTS = 8;
const suite = faultSuite({
  suite: 'pacs-faults',
  configServiceEnv: { TRANSFER_RETRY_BASE_MS: '500', TRANSFER_MAX_ATTEMPTS: String(MAX_ATTEMPTS) },
});

/** A PACS slower than this fails its batches on the configuration's timeout. */
const TIMEOUT_MS = 2_000;
const SMALL = { series: 1, instancesPerSeries: 5, instanceBytes: 10_000 };

/** Dispatches of the transfers' batches (attempts summed), and how many batches they have. */
async function attemptsOf(
  transfers: readonly CaseTransfer[],
): Promise<{ attempts: number; batches: number }> {
  const [counts] = await suite.stack.query<{ attempts: number; batches: number }>(
    `SELECT coalesce(sum(attempt), 0)::int AS attempts, count(*)::int AS batches
       FROM transfer_batch WHERE transfer_id = ANY($1::uuid[])`,
    [transfers.map((transfer) => transfer.id)],
  );
  return counts;
}

/** Seconds from POST /transfers to the terminal event, per transfer. */
function durations(transfers: readonly CaseTransfer[], startedAt: ReadonlyMap<string, number>): number[] {
  return transfers.map((transfer) => {
    const end = suite.stack.events.terminal(transfer.id)[0]?.at ?? Number.NaN;
    return end - (startedAt.get(transfer.id) ?? Number.NaN);
  });
}

it('a slow PACS beside a fast one: the fast one is unaffected, the slow ones time out', async () => {
  const kit = suite.kit();
  const trickling = await startTricklingStow(TIMEOUT_MS + 1_000);
  try {
    const fast = await kit.dimseOrthanc({ maxAssociations: 2 });
    // An SCP whose every answer comes 1 s after the configuration's timeout.
    const slowDimse = await kit.storescp({
      maxAssociations: 2,
      responseDelayMs: TIMEOUT_MS + 1_000,
      timeoutMs: TIMEOUT_MS,
    });
    const slowStow = await kit.unstoredPacs({
      type: 'dicomweb',
      url: `http://127.0.0.1:${trickling.port}/dicom-web`,
      stowRs: true,
      auth: { method: 'none' },
      timeoutMs: TIMEOUT_MS,
    });
    const startedAt = new Map<string, number>();
    const start = async (pacs: typeof fast) => {
      const transfer = await kit.export(
        pacs,
        await kit.study({ series: 1, instancesPerSeries: 20, instanceBytes: 10_000 }),
      );
      startedAt.set(transfer.id, Date.now());
      return transfer;
    };
    // The fast PACS alone first: the yardstick.
    const alone = [await start(fast), await start(fast), await start(fast)];
    await settleCase(suite.stack, {
      name: 'fast PACS alone (yardstick for the next case)',
      transfers: alone,
      faultEndedAt: Date.now(),
      waitMs: 60_000,
    });
    const yardstick = Math.max(...durations(alone, startedAt));
    const slow: CaseTransfer[] = [];
    const beside: CaseTransfer[] = [];
    const faultAt = Date.now();
    for (let i = 0; i < 3; i++) {
      slow.push(await start(slowDimse), await start(slowStow));
      beside.push(await start(fast));
    }
    const fastDurations = () => durations(beside, startedAt);
    await settleCase(suite.stack, {
      name: `slow PACS (C-STORE answers after ${TIMEOUT_MS + 1_000} ms; STOW-RS trickling) beside a fast one`,
      transfers: [...beside, ...slow],
      faultEndedAt: faultAt,
      waitMs: 240_000,
      expectFailed: {
        ids: new Set(slow.map((transfer) => transfer.id)),
        reason: /no answer within|response timeout/,
      },
      checks: () => {
        const slowest = Math.max(...fastDurations());
        // Unaffected: as fast as alone, give or take a busy machine.
        return slowest > Math.max(2 * yardstick, yardstick + 5_000)
          ? [`the fast PACS's transfers took up to ${slowest} ms beside the slow one, ${yardstick} ms alone`]
          : [];
      },
    });
  } finally {
    await trickling.close();
    await kit.close();
  }
});

it('a PACS that is down fails fast: its backlog does not spend every attempt of every batch', async () => {
  const kit = suite.kit();
  try {
    const down = await freePort(); // nothing listens there
    const dimse = await kit.unstoredPacs({
      type: 'dimse',
      host: '127.0.0.1',
      port: down,
      cStore: true,
      maxAssociations: 2,
      timeoutMs: TIMEOUT_MS,
    });
    const stow = await kit.unstoredPacs({
      type: 'dicomweb',
      url: `http://127.0.0.1:${down}/dicom-web`,
      stowRs: true,
      auth: { method: 'none' },
      timeoutMs: TIMEOUT_MS,
    });
    const transfers: CaseTransfer[] = [];
    for (let i = 0; i < 4; i++) transfers.push(await kit.export(dimse, await kit.study(SMALL)));
    for (let i = 0; i < 4; i++) transfers.push(await kit.export(stow, await kit.study(SMALL)));
    const startedAt = Date.now();
    await settleCase(suite.stack, {
      name: 'PACS down (closed port): 4 transfers by C-STORE, 4 by STOW-RS',
      transfers,
      faultEndedAt: startedAt,
      waitMs: 240_000,
      expectFailed: { ids: new Set(transfers.map((transfer) => transfer.id)), reason: /connection refused/ },
      checks: async () => {
        const { attempts, batches } = await attemptsOf(transfers);
        // A circuit per PACS: the first batch to find it down spends its attempts, the others one each.
        const bound = 2 * MAX_ATTEMPTS + batches;
        return attempts > bound
          ? [
              `${attempts} dispatches of ${batches} batches to a PACS known to be down (a circuit: about ${bound})`,
            ]
          : [];
      },
    });
  } finally {
    await kit.close();
  }
});

async function rejectedCase(rejection: Rejection, name: string, expectedTries: number): Promise<void> {
  const kit = suite.kit();
  const scp = await startRejectingScp(rejection);
  try {
    const pacs = await kit.unstoredPacs({
      type: 'dimse',
      host: '127.0.0.1',
      port: scp.port,
      cStore: true,
      maxAssociations: 1,
      timeoutMs: TIMEOUT_MS,
    });
    const transfer = await kit.export(pacs, await kit.study(SMALL));
    await settleCase(suite.stack, {
      name,
      transfers: [transfer],
      faultEndedAt: Date.now(),
      waitMs: 180_000,
      expectFailed: { ids: new Set([transfer.id]), reason: /reject/i },
      checks: () =>
        scp.count === expectedTries
          ? []
          : [`the PACS was asked for an association ${scp.count} times (expected ${expectedTries})`],
    });
  } finally {
    await scp.close();
    await kit.close();
  }
}

it('association rejected permanently: failed at once, no retry storm', () =>
  rejectedCase(
    { result: 1, source: 1, reason: 7 },
    'association rejected permanently (called AE title not recognized)',
    1,
  ));

it('association rejected transiently: retried, then failed', () =>
  rejectedCase(
    { result: 2, source: 3, reason: 1 },
    'association rejected transiently (temporary congestion)',
    MAX_ATTEMPTS,
  ));
