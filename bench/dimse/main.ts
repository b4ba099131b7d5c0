/**
 * `npm run bench:dimse`: the DICOM network engine against DCMTK, every target of issue 11 in one
 * run, one table. Receiving (storescu → the built dimse-worker in each SCP_DURABILITY vs →
 * storescp, and the worker's peak RSS receiving ~2 GB), sending (`store()` vs storescu to the same Orthanc) and C-ECHO/C-FIND
 * (vs echoscu/findscu). Each bench also runs alone (see its file). Takes 10-20 minutes: not in CI.
 *
 *   npm run build && npm run bench:dimse -- [--only receive,memory,send,echo-find] [--keep DIR]
 *     [--runs-receive 3] [--runs-send 5] [--runs-echo-find 20] [--receive-in DIR]
 *
 * Needs the test peers (started here through scripts/test-peers.sh if they are not running, and
 * left running), Postgres and RabbitMQ with the management plugin, and DCMTK.
 */
import { join } from 'node:path';
import { startPeers } from '@pacslink/testing';
import { argument, comparisonTable, loadAverage, type Comparison } from './common';
import { benchEchoFind } from './echo-find-vs-dcmtk';
import { benchReceive, WORKER_RSS_BOUND_MB, type ReceiveResult } from './receive-vs-storescp';
import { benchStore } from './store-vs-storescu';

async function main(): Promise<void> {
  const only = new Set(argument('only', 'receive,memory,send,echo-find').split(','));
  const keep = argument('keep', '');
  const keepArgs = (sub: string) => (keep === '' ? [] : ['--keep', join(keep, sub)]);
  const receiveIn = argument('receive-in', '');
  const receiveInArgs = receiveIn === '' ? [] : ['--receive-in', receiveIn];
  const startLoad = loadAverage();
  await startPeers();
  const rows: Comparison[] = [];
  const received: ReceiveResult[] = [];
  const receiveShapes = [
    ...(only.has('receive') ? ['large', 'small'] : []),
    ...(only.has('memory') ? ['2gb'] : []),
  ];
  if (receiveShapes.length > 0) {
    const result = await benchReceive([
      '--shape',
      receiveShapes.join(','),
      '--runs',
      argument('runs-receive', '3'),
      ...keepArgs('receive'),
      ...receiveInArgs,
    ]);
    received.push(result);
    rows.push(...result.comparisons);
  }
  if (only.has('send')) {
    rows.push(...(await benchStore(['--runs', argument('runs-send', '5'), ...keepArgs('send')])));
  }
  if (only.has('echo-find'))
    rows.push(...(await benchEchoFind(['--runs', argument('runs-echo-find', '20')])));

  console.log(
    `\n## DICOM network engine vs DCMTK (load average ${startLoad} at start, ${loadAverage()} at end)\n`,
  );
  console.log(comparisonTable(rows));
  for (const result of received) {
    console.log('\npeak RSS (VmHWM) of the receiver, over all runs of a shape:\n');
    console.log(
      '| study | dimse-worker (instance) | dimse-worker (association) | storescp | bound (dimse-worker) | met? |',
    );
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const shape of new Set(result.peaks.map((peak) => peak.shape))) {
      const of = (receiver: string) =>
        result.peaks.find((peak) => peak.shape === shape && peak.receiver === receiver)?.peakRssMb;
      const workers = [of('instance'), of('association')];
      const mb = (value: number | undefined) => (value === undefined ? '' : `${Math.round(value)} MB`);
      const measured = workers.filter((value) => value !== undefined);
      const met =
        measured.length === 0
          ? ''
          : measured.every((value) => value <= WORKER_RSS_BOUND_MB)
            ? 'yes'
            : '**no**';
      console.log(
        `| ${shape} | ${workers.map(mb).join(' | ')} | ${mb(of('storescp'))} | ≤ ${WORKER_RSS_BOUND_MB} MB | ${met} |`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
