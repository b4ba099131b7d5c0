import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultApp } from './support/built-services';
import { settleCase } from './support/end-state';
import { faultSuite } from './support/fault-suite';
import type { ServiceProcess, TerminateResult } from './support/service-process';
import { SseClient } from './support/sse-client';
import { startTransferLoad } from './support/transfer-load';

// Rolling updates (SIGTERM after the replacement is ready, SIGKILL at Kubernetes' grace period)
// of each service, twice in a row, while transfers keep coming (docs/testing/fault-suite.md).
const suite = faultSuite({ suite: 'rolling-restarts', configServiceEnv: { TRANSFER_RETRY_BASE_MS: '500' } });

/** "On SIGTERM every service goes unready at once" (issue 10): readiness may lag by a probe or two. */
const UNREADY_WITHIN_MS = 1_000;

function terminationProblems(results: readonly TerminateResult[], graceMs: number): string[] {
  return results.flatMap((result) => [
    ...(result.killedAtGrace
      ? [`${result.name} was still running ${graceMs / 1000} s after SIGTERM: killed at the grace period`]
      : []),
    ...(result.unreadyMs > UNREADY_WITHIN_MS
      ? [`${result.name} still answered ready ${(result.unreadyMs / 1000).toFixed(1)} s after SIGTERM`]
      : []),
  ]);
}

async function rollingRestartTwice(app: FaultApp, name: string): Promise<void> {
  const { stack } = suite;
  const kit = suite.kit();
  const streams: SseClient[] = [];
  try {
    // Batches of a few seconds each (answers held at the probes), so that a SIGTERM finds one.
    const pacs = [
      await kit.dimseOrthanc({ maxAssociations: 2, responseDelayMs: 100 }),
      await kit.storescp({ maxAssociations: 1, responseDelayMs: 100 }),
      await kit.stowOrthanc({ responseDelayMs: 3_000 }),
    ];
    const probes = pacs.flatMap((target) => (target.probe ? [target.probe] : []));
    // Browsers watching transfers: a config-service replica must end their streams to stop.
    for (const replica of stack.live('config-service')) {
      streams.push(new SseClient(() => stack.replicas.get('config-service') ?? [], stack.apiKey, replica));
    }
    const load = startTransferLoad(
      kit,
      pacs,
      { series: 1, instancesPerSeries: 30, instanceBytes: 10_000 },
      1_000,
    );
    await sleep(5_000);
    const notSending: string[] = [];
    // A worker is told to stop while it sends a batch (config-service: while its SSE clients watch).
    const midBatch = async (old: ServiceProcess) => {
      if (app !== 'config-service' && !(await kit.untilSending(old, probes, 20_000)))
        notSending.push(old.name);
    };
    const results = [
      ...(await stack.rollingRestart(app, midBatch)),
      ...(await stack.rollingRestart(app, midBatch)),
    ];
    const restartedAt = Date.now();
    const started = await load.stop();
    await settleCase(stack, {
      name,
      transfers: started.transfers,
      faultEndedAt: restartedAt,
      waitMs: 180_000,
      problems: [
        ...started.problems,
        ...terminationProblems(results, stack.graceMs(app)),
        ...notSending.map(
          (old) => `${old} sent nothing for 20 s before its SIGTERM: the case did not test a drain`,
        ),
      ],
    });
  } finally {
    for (const stream of streams) await stream.stop();
    await kit.close();
  }
}

it('SIGTERM: rolling restart of config-service, twice, during transfers and with SSE clients', () =>
  rollingRestartTwice(
    'config-service',
    'SIGTERM rolling restart of config-service, twice (SSE clients connected)',
  ));

it('SIGTERM: rolling restart of dimse-worker, twice, during transfers', () =>
  rollingRestartTwice('dimse-worker', 'SIGTERM rolling restart of dimse-worker, twice'));

it('SIGTERM: rolling restart of dicomweb-worker, twice, during transfers', () =>
  rollingRestartTwice('dicomweb-worker', 'SIGTERM rolling restart of dicomweb-worker, twice'));
