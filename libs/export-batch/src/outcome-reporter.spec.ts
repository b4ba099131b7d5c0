import { Logger } from '@nestjs/common';
import { ExportBatchReports, type MessageContract } from '@pacslink/contracts';
import { OutcomeReporter } from './outcome-reporter';

const ref = { transferId: 't', batchId: 'b', attempt: 1, claimant: 'c' };
const outcome = (n: number) => ({ sopInstanceUid: `1.2.${n}`, status: 'success' as const });

function recorder() {
  const sent: { type: string; data: Record<string, unknown> }[] = [];
  const publish = <T extends object>(contract: MessageContract<T>, data: T): Promise<void> => {
    sent.push({ type: contract.type, data: data as Record<string, unknown> });
    return Promise.resolve();
  };
  return { sent, publish };
}

describe('OutcomeReporter', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('reports outcomes at most once per interval, then the end with every outcome of the run', async () => {
    const { sent, publish } = recorder();
    const reporter = new OutcomeReporter(ref, publish, { flushIntervalMs: 500, heartbeatIntervalMs: 30_000 });
    reporter.add(outcome(1));
    reporter.add(outcome(2));
    await jest.advanceTimersByTimeAsync(499);
    expect(sent).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    reporter.add(outcome(3));
    await reporter.finish();
    expect(sent.map((report) => report.type)).toEqual([
      ExportBatchReports.Progress.type,
      ExportBatchReports.Finished.type,
    ]);
    expect(sent[0].data.outcomes).toEqual([outcome(1), outcome(2)]);
    expect(sent[1].data).toEqual({ ...ref, outcomes: [outcome(1), outcome(2), outcome(3)] });
  });

  it('ends with a finished report that holds the whole run, so it may overtake the progress reports (issue 10)', async () => {
    const { sent, publish } = recorder();
    const reporter = new OutcomeReporter(ref, publish, { flushIntervalMs: 500, heartbeatIntervalMs: 30_000 });
    for (let n = 0; n < 10; n++) {
      reporter.add(outcome(n));
      await jest.advanceTimersByTimeAsync(500);
    }
    reporter.add({
      sopInstanceUid: '1.2.10',
      status: 'failure',
      statusCode: 0xa700,
      reason: 'out of resources',
    });
    reporter.add({ sopInstanceUid: '1.2.10', status: 'success' });
    await reporter.finish({ transient: true, reason: 'association aborted' });
    const finished = sent.at(-1);
    expect(finished?.type).toBe(ExportBatchReports.Finished.type);
    // Applied first, it alone settles the batch on the whole picture; the progress reports after it
    // set the same outcomes again and change nothing. Each instance once, its last answer.
    expect(finished?.data.outcomes).toEqual([
      ...Array.from({ length: 10 }, (_, n) => outcome(n)),
      { sopInstanceUid: '1.2.10', status: 'success' },
    ]);
    expect(finished?.data.failure).toEqual({ transient: true, reason: 'association aborted' });
  });

  it('sends a heartbeat without outcomes so the lease stays alive during one long instance', async () => {
    const { sent, publish } = recorder();
    const reporter = new OutcomeReporter(ref, publish, { flushIntervalMs: 500, heartbeatIntervalMs: 2_000 });
    await jest.advanceTimersByTimeAsync(1_500);
    expect(sent).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(500);
    expect(sent).toEqual([{ type: ExportBatchReports.Progress.type, data: { ...ref, outcomes: [] } }]);
    reporter.abandon();
  });

  it('ends with the failure, and gives up (signal, finish rejects) when a report could not be published after its retries', async () => {
    const { sent, publish } = recorder();
    await new OutcomeReporter(ref, publish).finish({ transient: true, reason: 'refused' });
    expect(sent[0].data.failure).toEqual({ transient: true, reason: 'refused' });

    const failing = new OutcomeReporter(ref, () => Promise.reject(new Error('broker gone')), {
      flushIntervalMs: 10,
      heartbeatIntervalMs: 30_000,
      retryDelaysMs: [100],
    });
    failing.add(outcome(1));
    await jest.advanceTimersByTimeAsync(10);
    expect(failing.signal.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(100);
    // Given up after two tries: the runner stops sending on this signal.
    expect(failing.signal.aborted).toBe(true);
    await expect(failing.finish()).rejects.toThrow(
      'a report of batch b (attempt 1) was not confirmed after 2 tries: broker gone',
    );
  });

  it('retries a report the broker did not confirm, and the heartbeats after it still go out', async () => {
    const { sent, publish } = recorder();
    let failures = 1;
    const flaky: typeof publish = (contract, data) =>
      failures-- > 0 ? Promise.reject(new Error('confirm timed out')) : publish(contract, data);
    const reporter = new OutcomeReporter(ref, flaky, { flushIntervalMs: 500, heartbeatIntervalMs: 2_000 });
    reporter.add(outcome(1));
    await jest.advanceTimersByTimeAsync(500);
    expect(sent).toHaveLength(0);
    // The default retry waits out one second, then the same outcomes go again.
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([
      { type: ExportBatchReports.Progress.type, data: { ...ref, outcomes: [outcome(1)] } },
    ]);
    await jest.advanceTimersByTimeAsync(4_000);
    expect(sent.map((report) => report.data.outcomes)).toEqual([[outcome(1)], [], []]);
    await reporter.finish();
    expect(sent.at(-1)?.type).toBe(ExportBatchReports.Finished.type);
  });
});
