import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import {
  ExportBatchReports,
  type Envelope,
  type ExportBatchData,
  type ExportBatchFinishedData,
} from '@pacslink/contracts';
import type { ConfirmedPublisher, RpcClient } from '@pacslink/messaging';
import {
  ExportBatchRunner,
  SHUTTING_DOWN_REASON,
  type BatchRunControl,
  type BatchSender,
} from './export-batch-runner';

const INSTANCES = 100;
const uid = (n: number) => `1.2.3.${n}`;
/** The consumer's signal of a worker that is not shutting down. */
const running = new AbortController().signal;
const batch: ExportBatchData = {
  transferId: '0b7a1c3e-2f5d-4e8a-9c6b-1d2e3f4a5b6c',
  batchId: '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b',
  attempt: 1,
  instances: Array.from({ length: INSTANCES }, (_, n) => ({
    sopInstanceUid: uid(n),
    sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    path: `s/${n}.dcm`,
    sizeBytes: 1000,
  })),
};

/** config-service says go; the broker confirms what `confirms` lets through. */
function fakes(confirms: (type: string) => boolean) {
  const published: Envelope[] = [];
  const rpc = { request: () => Promise.resolve({ go: true }) } as unknown as RpcClient;
  const publisher = {
    publish: (_exchange: string, envelope: Envelope) => {
      if (!confirms(envelope.type)) return Promise.reject(new Error('publish not confirmed'));
      published.push(envelope);
      return Promise.resolve();
    },
  } as unknown as ConfirmedPublisher;
  const runner = new ExportBatchRunner(rpc, publisher, new Registry());
  // The finished report repeats every outcome of the run (issue 10): each instance once.
  const reported = () => [
    ...new Set(
      published.flatMap((envelope) =>
        (envelope.data as ExportBatchFinishedData).outcomes.map((o) => o.sopInstanceUid),
      ),
    ),
  ];
  return { runner, published, reported };
}

/**
 * A PACS that answers one instance a second. Like the real senders it looks at the signal only
 * between instances (the boundary), and its own reading of a stop would be a permanent failure:
 * the runner must know better.
 */
function pacedSender() {
  const sent: string[] = [];
  const sender: BatchSender = {
    method: 'C-STORE',
    async send(run: BatchRunControl, signal?: AbortSignal) {
      for (let n = 0; n < INSTANCES; n++) {
        if (signal?.aborted) throw new Error(`C-STORE cancelled after ${n} instances`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        sent.push(uid(n));
        run.outcome({ sopInstanceUid: uid(n), status: 'success' });
      }
    },
    classify: (error) => ({ transient: false, reason: (error as Error).message }),
  };
  return { sender, sent };
}

describe('ExportBatchRunner', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('goes on after a report the broker did not confirm once, and every outcome is reported', async () => {
    let failures = 1;
    const { runner, published, reported } = fakes(() => failures-- <= 0);
    const { sender, sent } = pacedSender();
    const run = runner.run(batch, running, sender);
    await jest.advanceTimersByTimeAsync(INSTANCES * 1_000 + 1_000);
    await expect(run).resolves.toBeUndefined();
    expect(sent).toHaveLength(INSTANCES);
    expect(reported()).toEqual(batch.instances.map((instance) => instance.sopInstanceUid));
    expect(published.at(-1)).toMatchObject({ type: ExportBatchReports.Finished.type });
  });

  it('a worker that cannot report stops sending at the next instance, and the delivery is not acked', async () => {
    const { runner, published } = fakes((type) => type !== ExportBatchReports.Progress.type);
    const { sender, sent } = pacedSender();
    const run = runner.run(batch, running, sender);
    const outcome = run.then(
      () => 'acked',
      (error: Error) => error.message,
    );
    await jest.advanceTimersByTimeAsync(INSTANCES * 1_000 + 1_000);
    // Not acked: the delivery goes back to the queue, is claimed again (same attempt) and resent.
    expect(await outcome).toMatch(/not confirmed/);
    // The retries take 15 s (1 + 2 + 4 + 8): well inside the 2-minute lease, the sender stopped.
    expect(sent.length).toBeGreaterThan(10);
    expect(sent.length).toBeLessThan(20);
    expect(published.filter((envelope) => envelope.type === ExportBatchReports.Finished.type)).toEqual([]);
  });

  it('stops at the next instance when the worker shuts down, and reports what was done as a transient failure', async () => {
    const { runner, published, reported } = fakes(() => true);
    const { sender, sent } = pacedSender();
    const shutdown = new AbortController();
    const run = runner.run(batch, shutdown.signal, sender);
    await jest.advanceTimersByTimeAsync(5_500);
    shutdown.abort();
    await jest.advanceTimersByTimeAsync(1_000);
    await expect(run).resolves.toBeUndefined();
    expect(sent).toHaveLength(6);
    const finished = published.at(-1) as Envelope<ExportBatchFinishedData>;
    expect(finished.type).toBe(ExportBatchReports.Finished.type);
    expect(finished.data.failure).toEqual({ transient: true, reason: SHUTTING_DOWN_REASON });
    expect(reported()).toEqual(sent);
  });

  it('does not claim a batch once the worker is shutting down: the delivery goes back as it came', async () => {
    const { runner, published } = fakes(() => true);
    const { sender, sent } = pacedSender();
    const shutdown = new AbortController();
    shutdown.abort();
    await expect(runner.run(batch, shutdown.signal, sender)).rejects.toThrow(/shutting down/);
    expect(sent).toEqual([]);
    expect(published).toEqual([]);
  });

  it('an import run reports its fallback at once and its plan on the finished report', async () => {
    const { runner, published } = fakes(() => true);
    const manifest = [
      { sopInstanceUid: uid(1), seriesInstanceUid: '1.2.3', sopClassUid: '1.2.840.10008.5.1.4.1.1.7' },
    ];
    const sender: BatchSender = {
      direction: 'import',
      method: 'C-GET',
      async send(run) {
        run.fallback('C-MOVE', 'the PACS rejected the C-GET presentation context');
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        run.outcome(
          { sopInstanceUid: uid(1), status: 'success', path: 'studies/1.2/1.2.3/1.2.3.1.dcm' },
          512,
        );
        return { manifest, subOperations: { completed: 1, failed: 0, warning: 0 } };
      },
      classify: (error) => ({ transient: false, reason: (error as Error).message }),
    };
    const run = runner.run(
      { transferId: batch.transferId, batchId: batch.batchId, attempt: 1 },
      running,
      sender,
    );
    await jest.advanceTimersByTimeAsync(1_000);
    // Before any outcome: the switch alone is worth a report.
    expect(published[0]).toMatchObject({
      type: ExportBatchReports.Progress.type,
      data: { method: 'C-MOVE', fallback: 'the PACS rejected the C-GET presentation context', outcomes: [] },
    });
    await jest.advanceTimersByTimeAsync(2_000);
    await expect(run).resolves.toBeUndefined();
    expect(published.at(-1)).toMatchObject({
      type: ExportBatchReports.Finished.type,
      data: {
        method: 'C-MOVE',
        manifest,
        subOperations: { completed: 1, failed: 0, warning: 0 },
        outcomes: [{ sopInstanceUid: uid(1), path: 'studies/1.2/1.2.3/1.2.3.1.dcm' }],
      },
    });
  });
});
