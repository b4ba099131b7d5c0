import type { DimseCallers } from '@pacslink/contracts';
import type { RpcClient } from '@pacslink/messaging';
import { DIMSE_CALLERS_TTL_MS, DimseCallersCache } from './dimse-callers.cache';

function rpcAnswering(...answers: (DimseCallers | Error)[]): { rpc: RpcClient; asked: () => number } {
  let asked = 0;
  const rpc = {
    request: () => {
      const answer = answers[Math.min(asked, answers.length - 1)];
      asked += 1;
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  } as unknown as RpcClient;
  return { rpc, asked: () => asked };
}

const CALLERS: DimseCallers = { callers: [{ pacsConfigId: 'c1', aeTitle: 'Modality1' }] };

describe('DimseCallersCache', () => {
  afterEach(() => jest.useRealTimers());

  it('matches the calling AE title case-insensitively, answering the configuration', async () => {
    const { rpc } = rpcAnswering(CALLERS);
    const cache = new DimseCallersCache(rpc, 'PACSLINK');
    await expect(cache.identify('MODALITY1')).resolves.toEqual({ id: 'c1', aeTitle: 'Modality1' });
    await expect(cache.identify('modality1')).resolves.toEqual({ id: 'c1', aeTitle: 'Modality1' });
    await expect(cache.identify('MODALITY2')).resolves.toBeUndefined();
  });

  it('asks config-service once per DIMSE_CALLERS_TTL_MS', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { rpc, asked } = rpcAnswering(CALLERS, { callers: [] });
    const cache = new DimseCallersCache(rpc, 'PACSLINK');
    await cache.identify('MODALITY1');
    await cache.identify('MODALITY1');
    expect(asked()).toBe(1);
    jest.setSystemTime(1_000_000 + DIMSE_CALLERS_TTL_MS + 1);
    // A configuration deleted meanwhile is no longer let in.
    await expect(cache.identify('MODALITY1')).resolves.toBeUndefined();
    expect(asked()).toBe(2);
  });

  it('keeps no failed answer: the next association asks again', async () => {
    const { rpc, asked } = rpcAnswering(new Error('no answer within 5000 ms'), CALLERS);
    const cache = new DimseCallersCache(rpc, 'PACSLINK');
    await expect(cache.identify('MODALITY1')).rejects.toThrow('no answer within 5000 ms');
    await expect(cache.identify('MODALITY1')).resolves.toMatchObject({ id: 'c1' });
    expect(asked()).toBe(2);
  });
});
