import { getEventListeners } from 'node:events';
import { eitherSignal } from './either-signal';

describe('eitherSignal', () => {
  it('aborts with the reason of whichever aborts first', () => {
    const [a, b] = [new AbortController(), new AbortController()];
    const { signal } = eitherSignal(a.signal, b.signal);
    expect(signal.aborted).toBe(false);
    b.abort(new Error('reports not confirmed'));
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toEqual(new Error('reports not confirmed'));
    a.abort(new Error('shutting down'));
    expect(signal.reason).toEqual(new Error('reports not confirmed'));
  });

  it('is aborted at once when a source already is', () => {
    const stopped = new AbortController();
    stopped.abort('shutting down');
    expect(eitherSignal(stopped.signal, new AbortController().signal).signal.reason).toBe('shutting down');
  });

  it('leaves nothing on a long-lived signal once disposed', () => {
    const consumer = new AbortController().signal;
    for (let n = 0; n < 100; n++) eitherSignal(consumer, new AbortController().signal).dispose();
    expect(getEventListeners(consumer, 'abort')).toHaveLength(0);
  });
});
