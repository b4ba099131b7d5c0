import type { ImportInstanceData } from '@pacslink/contracts';
import type { BatchSnapshot } from './batch-transitions';
import {
  decideArrival,
  decidePlanFinished,
  decideRetrieveFinished,
  fileMismatch,
  planRetrieval,
} from './import-transitions';

const RUN = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const CT = '1.2.840.10008.5.1.4.1.1.2';

const batch = (changes: Partial<BatchSnapshot> = {}): BatchSnapshot => ({
  seq: 0,
  state: 'running',
  attempt: 1,
  claimant: RUN,
  failures: 0,
  leaseLive: true,
  leaseRemainingMs: 40_000,
  awaitingArrivals: false,
  ...changes,
});
const run = { attempt: 1, claimant: RUN };
const instance = (series: string, sop: string): ImportInstanceData => ({
  sopInstanceUid: `1.2.${series}.${sop}`,
  seriesInstanceUid: `1.2.${series}`,
  sopClassUid: CT,
});
const uids = (instances: readonly ImportInstanceData[]) => instances.map((i) => i.sopInstanceUid);
const study = { studyInstanceUid: '1.2.9', seriesInstanceUid: null };

describe('decidePlanFinished', () => {
  const manifest = [instance('1', '1')];

  it('plans the retrieve batches from the manifest of the run that holds the plan', () => {
    expect(decidePlanFinished(batch(), { ...run, manifest }, study)).toEqual({ kind: 'plan', manifest });
  });

  it('fails the transfer when the PACS holds nothing of the study or series (asking again changes nothing)', () => {
    expect(decidePlanFinished(batch(), { ...run, manifest: [] }, study)).toEqual({
      kind: 'fail-transfer',
      reason: 'the PACS holds no instance of study 1.2.9',
    });
    expect(
      decidePlanFinished(batch(), { ...run, manifest: [] }, { ...study, seriesInstanceUid: '1.2.9.1' }),
    ).toEqual({
      kind: 'fail-transfer',
      reason: 'the PACS holds no instance of series 1.2.9.1 of study 1.2.9',
    });
  });

  it('goes again after a transient failure, or a run that ended without a manifest; fails on a permanent one', () => {
    const transient = { transient: true, reason: 'association rejected (transient)' };
    expect(decidePlanFinished(batch(), { ...run, failure: transient }, study)).toEqual({
      kind: 'retry-later',
      reason: 'association rejected (transient)',
    });
    expect(decidePlanFinished(batch(), run, study)).toEqual({
      kind: 'retry-later',
      reason: 'the worker ended the plan without listing the study',
    });
    const permanent = { transient: false, reason: 'C-FIND refused: 0xA700' };
    expect(decidePlanFinished(batch(), { ...run, failure: permanent, manifest }, study)).toEqual({
      kind: 'fail-transfer',
      reason: 'C-FIND refused: 0xA700',
    });
  });

  it('ignores a stale attempt and only records the end of a run that lost the plan', () => {
    expect(decidePlanFinished(batch({ attempt: 2 }), { ...run, manifest }, study)).toEqual({
      kind: 'ignore',
    });
    expect(decidePlanFinished(batch({ claimant: OTHER }), { ...run, manifest }, study)).toEqual({
      kind: 'record',
    });
    expect(decidePlanFinished(batch({ state: 'done' }), { ...run, manifest }, study)).toEqual({
      kind: 'record',
    });
  });
});

describe('planRetrieval', () => {
  it('lists each instance once, by series, and leaves out of the batches what the store already holds', () => {
    const manifest = [instance('2', '1'), instance('1', '2'), instance('1', '1'), instance('1', '2')];
    const plan = planRetrieval(manifest, new Set(['1.2.1.2']), 1, null);
    expect(uids(plan.instances)).toEqual(['1.2.1.1', '1.2.1.2', '1.2.2.1']);
    expect(uids(plan.held)).toEqual(['1.2.1.2']);
    expect(plan.batches.map(uids)).toEqual([['1.2.1.1', '1.2.2.1']]);
  });

  it('keeps a series that fits in one batch whole, and cuts a bigger one into batches of its own', () => {
    const manifest = [
      ...['1', '2'].map((sop) => instance('1', sop)),
      ...['1', '2', '3', '4', '5'].map((sop) => instance('2', sop)),
      ...['1'].map((sop) => instance('3', sop)),
    ];
    // 8 instances over 3 slots: about 3 a batch.
    const plan = planRetrieval(manifest, new Set(), 3, null);
    expect(plan.batches.map(uids)).toEqual([
      ['1.2.1.1', '1.2.1.2'],
      ['1.2.2.1', '1.2.2.2', '1.2.2.3'],
      ['1.2.2.4', '1.2.2.5'],
      ['1.2.3.1'],
    ]);
  });

  it('puts small series together up to the batch size and never past maxInstances', () => {
    const manifest = ['1', '2', '3'].flatMap((series) => [instance(series, '1'), instance(series, '2')]);
    expect(planRetrieval(manifest, new Set(), 1, null).batches).toHaveLength(1);
    expect(planRetrieval(manifest, new Set(), 1, null, { maxInstances: 4 }).batches.map(uids)).toEqual([
      ['1.2.1.1', '1.2.1.2', '1.2.2.1', '1.2.2.2'],
      ['1.2.3.1', '1.2.3.2'],
    ]);
  });

  it('keeps only the asked-for series of an import that names one', () => {
    const manifest = [instance('1', '1'), instance('2', '1')];
    const plan = planRetrieval(manifest, new Set(), 1, '1.2.2');
    expect(uids(plan.instances)).toEqual(['1.2.2.1']);
    expect(plan.batches.map(uids)).toEqual([['1.2.2.1']]);
  });

  it('plans no batch when the store holds everything', () => {
    const plan = planRetrieval([instance('1', '1')], new Set(['1.2.1.1']), 4, null);
    expect(plan.batches).toEqual([]);
    expect(uids(plan.held)).toEqual(['1.2.1.1']);
  });
});

describe('decideRetrieveFinished', () => {
  it('is done when every instance has its outcome', () => {
    expect(decideRetrieveFinished(batch(), run, { unanswered: 0, method: 'C-GET' })).toEqual({
      kind: 'done',
    });
  });

  it('waits for the Storage SCP after a C-MOVE that ended well with instances still to come', () => {
    expect(decideRetrieveFinished(batch(), run, { unanswered: 3, method: 'C-MOVE' })).toEqual({
      kind: 'await-arrivals',
    });
  });

  it('fails what a C-GET or WADO-RS run that ended well did not bring', () => {
    for (const method of ['C-GET', 'WADO-RS'] as const) {
      expect(decideRetrieveFinished(batch(), run, { unanswered: 2, method })).toEqual({
        kind: 'fail-missing',
        unanswered: 2,
      });
    }
  });

  it('goes again for what is missing after a transient failure, whatever the method; fails on a permanent one', () => {
    const transient = { transient: true, reason: 'C-MOVE: association aborted' };
    expect(
      decideRetrieveFinished(batch(), { ...run, failure: transient }, { unanswered: 2, method: 'C-MOVE' }),
    ).toEqual({ kind: 'retry-later', reason: 'C-MOVE: association aborted' });
    const permanent = { transient: false, reason: 'C-GET refused: 0xC000' };
    expect(
      decideRetrieveFinished(batch(), { ...run, failure: permanent }, { unanswered: 2, method: 'C-GET' }),
    ).toEqual({ kind: 'fail-transfer', reason: 'C-GET refused: 0xC000' });
  });

  it('only records a repeated end of a run whose batch already waits for arrivals, and ignores stale attempts', () => {
    expect(
      decideRetrieveFinished(batch({ awaitingArrivals: true }), run, { unanswered: 3, method: 'C-MOVE' }),
    ).toEqual({ kind: 'record' });
    expect(decideRetrieveFinished(batch({ attempt: 2 }), run, { unanswered: 1, method: 'C-GET' })).toEqual({
      kind: 'ignore',
    });
  });
});

describe('decideArrival', () => {
  it('closes a waiting C-MOVE batch once its last instance arrived, and renews its lease before', () => {
    expect(decideArrival(batch({ awaitingArrivals: true }), 0)).toEqual({ kind: 'done' });
    expect(decideArrival(batch({ awaitingArrivals: true }), 2)).toEqual({ kind: 'renew' });
  });

  it('only records arrivals for a batch whose run is still going (or that is closed)', () => {
    expect(decideArrival(batch(), 0)).toEqual({ kind: 'none' });
    expect(decideArrival(batch({ state: 'done', awaitingArrivals: true }), 0)).toEqual({ kind: 'none' });
  });
});

describe('fileMismatch', () => {
  const asked = { sopInstanceUid: '1.2.3.4', studyInstanceUid: '1.2.3' };

  it('accepts the instance asked for, and names another instance or another study', () => {
    expect(fileMismatch(asked, asked)).toBeUndefined();
    expect(fileMismatch(asked, { ...asked, sopInstanceUid: '1.2.3.5' })).toBe(
      'the PACS sent instance 1.2.3.5 for 1.2.3.4',
    );
    expect(fileMismatch(asked, { ...asked, studyInstanceUid: '1.2.7' })).toBe(
      'the PACS sent the instance in study 1.2.7, not 1.2.3',
    );
  });
});
