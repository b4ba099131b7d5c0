import { Logger } from '@nestjs/common';
import { ExportBatchReports, type MessageContract } from '@pacslink/contracts';
import { OutcomeReporter } from './outcome-reporter';

const ref = { transferId: 't', batchId: 'b', attempt: 1 };
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

  it('reports outcomes at most once per interval, then the rest with the end', async () => {
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
    expect(sent[1].data).toEqual({ ...ref, outcomes: [outcome(3)] });
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
