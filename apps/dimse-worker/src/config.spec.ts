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
