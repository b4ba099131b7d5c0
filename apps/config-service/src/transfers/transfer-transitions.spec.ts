import { TransferEvents, type TransferStatus } from '@pacslink/contracts';
import {
  PROGRESS_EVENT_INTERVAL_MS,
  countsOf,
  decideSettle,
  describeRefusals,
  finishedEvent,
  isActive,
  progressDue,
} from './transfer-transitions';

const ID = '33333333-3333-4333-8333-333333333333';

describe('isActive', () => {
  it('is true for queued and running only', () => {
    const statuses: TransferStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];
    expect(statuses.filter(isActive)).toEqual(['queued', 'running']);
  });
});

describe('countsOf', () => {
  it('counts warnings as completed, and refusals as failed', () => {
    expect(countsOf({ success: 5, warning: 2, failure: 1, pending: 4 })).toEqual({
      completed: 7,
      warning: 2,
      failed: 1,
    });
  });

  it('counts a status without instances as none', () => {
    expect(countsOf({})).toEqual({ completed: 0, warning: 0, failed: 0 });
    expect(countsOf({ pending: 3 })).toEqual({ completed: 0, warning: 0, failed: 0 });
  });
});

describe('decideSettle', () => {
  it('waits while a batch is open', () => {
    expect(decideSettle({ status: 'running', completed: 10, total: 10 }, 1)).toEqual({ kind: 'none' });
  });

  it('completes an active transfer whose every instance the PACS accepted, once no batch is open', () => {
    expect(decideSettle({ status: 'running', completed: 10, total: 10 }, 0)).toEqual({ kind: 'complete' });
    expect(decideSettle({ status: 'queued', completed: 0, total: 0 }, 0)).toEqual({ kind: 'complete' });
  });

  it('fails it, naming the refusals, when some instance was not accepted', () => {
    expect(decideSettle({ status: 'running', completed: 9, total: 10 }, 0)).toEqual({
      kind: 'fail-naming-refusals',
    });
  });

  it('leaves an ended transfer as it is', () => {
    for (const status of ['completed', 'failed', 'cancelled'] as const) {
      expect(decideSettle({ status, completed: 10, total: 10 }, 0)).toEqual({ kind: 'none' });
    }
  });
});

describe('progressDue', () => {
  const now = 1_000_000;
  it('is due for a running transfer never announced, or announced at least the interval ago', () => {
    expect(progressDue({ status: 'running', progressPublishedAt: null }, now)).toBe(true);
    expect(
      progressDue(
        { status: 'running', progressPublishedAt: new Date(now - PROGRESS_EVENT_INTERVAL_MS) },
        now,
      ),
    ).toBe(true);
  });

  it('is not due within the interval, nor for a transfer that does not run', () => {
    expect(progressDue({ status: 'running', progressPublishedAt: new Date(now - 499) }, now)).toBe(false);
    expect(progressDue({ status: 'queued', progressPublishedAt: null }, now)).toBe(false);
    expect(progressDue({ status: 'completed', progressPublishedAt: null }, now)).toBe(false);
  });

  it('announces at most about twice a second', () => {
    expect(PROGRESS_EVENT_INTERVAL_MS).toBe(500);
  });
});

describe('finishedEvent', () => {
  it('announces each end with its own event', () => {
    expect(finishedEvent('completed')).toBe(TransferEvents.Completed);
    expect(finishedEvent('failed')).toBe(TransferEvents.Failed);
    expect(finishedEvent('cancelled')).toBe(TransferEvents.Cancelled);
  });
});

describe('describeRefusals', () => {
  const listing = `GET /api/v1/transfers/${ID}/instances?status=failure lists them`;

  it('names the refused instances given, with their reasons, and how many more', () => {
    expect(
      describeRefusals({ id: ID, total: 10, completed: 5, failed: 5 }, [
        { uid: '1.2.1', reason: 'C-STORE status 0xA700' },
        { uid: '1.2.2', reason: null },
      ]),
    ).toBe(
      `the PACS refused 5 of 10 instances: 1.2.1 (C-STORE status 0xA700); 1.2.2 (no reason given); and 3 more — ${listing}`,
    );
  });

  it('says how many got no answer at all', () => {
    expect(
      describeRefusals({ id: ID, total: 10, completed: 8, failed: 1 }, [{ uid: '1.2.1', reason: 'x' }]),
    ).toBe(
      `the PACS refused 1 of 10 instances: 1.2.1 (x); 1 of 10 instances got no answer from the PACS — ${listing}`,
    );
    expect(describeRefusals({ id: ID, total: 4, completed: 1, failed: 0 }, [])).toBe(
      `3 of 4 instances got no answer from the PACS — ${listing}`,
    );
  });
});
