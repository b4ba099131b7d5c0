import { loadConfigServiceEnv } from './config';

describe('config-service environment: STORE_IO, validated at boot', () => {
  it('is auto unless set; takes auto, sync and pooled', () => {
    expect(loadConfigServiceEnv({}).STORE_IO).toBe('auto');
    for (const value of ['auto', 'sync', 'pooled']) {
      expect(loadConfigServiceEnv({ STORE_IO: value }).STORE_IO).toBe(value);
    }
  });

  it.each([['async'], ['Pooled'], ['threads']])(
    'refuses %j, naming the variable and the values allowed',
    (value) => {
      expect(() => loadConfigServiceEnv({ STORE_IO: value })).toThrow(
        /STORE_IO: STORE_IO must be one of: auto, sync, pooled$/m,
      );
    },
  );
});
