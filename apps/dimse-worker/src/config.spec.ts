import { loadDimseWorkerEnv } from './config';

/** Why loadDimseWorkerEnv refuses `source`. */
function refusalOf(source: NodeJS.ProcessEnv): string {
  try {
    loadDimseWorkerEnv(source);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return 'accepted';
}

describe('dimse-worker environment: SCP_DURABILITY, validated at boot', () => {
  it('is instance unless set; takes instance and association', () => {
    expect(loadDimseWorkerEnv({}).SCP_DURABILITY).toBe('instance');
    expect(loadDimseWorkerEnv({ SCP_DURABILITY: 'instance' }).SCP_DURABILITY).toBe('instance');
    expect(loadDimseWorkerEnv({ SCP_DURABILITY: 'association' }).SCP_DURABILITY).toBe('association');
  });

  it.each([['none'], ['Association'], ['study']])(
    'refuses %j, naming the variable and the values allowed',
    (value) => {
      expect(refusalOf({ SCP_DURABILITY: value })).toMatch(
        /SCP_DURABILITY: SCP_DURABILITY must be one of: instance, association$/m,
      );
    },
  );
});

describe('dimse-worker environment: STORE_IO, validated at boot', () => {
  it('is auto unless set; takes auto, sync and pooled', () => {
    expect(loadDimseWorkerEnv({}).STORE_IO).toBe('auto');
    for (const value of ['auto', 'sync', 'pooled'])
      expect(loadDimseWorkerEnv({ STORE_IO: value }).STORE_IO).toBe(value);
  });

  it.each([['async'], ['Pooled'], ['threads']])(
    'refuses %j, naming the variable and the values allowed',
    (value) => {
      expect(refusalOf({ STORE_IO: value })).toMatch(
        /STORE_IO: STORE_IO must be one of: auto, sync, pooled$/m,
      );
    },
  );
});
