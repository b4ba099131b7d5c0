import { IsInt, Max, Min } from 'class-validator';
import { DatabaseServiceEnv, EnvError, loadEnv } from './service-env';

class WorkerEnv extends DatabaseServiceEnv {
  @IsInt() @Min(1) @Max(65535) SCP_PORT: number = 11112;
}

describe('loadEnv', () => {
  it('applies the contract defaults when nothing is set', () => {
    const env = loadEnv(WorkerEnv, {});
    expect(env).toMatchObject({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/pacslink',
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
      NODE_ENV: 'development',
      SCP_PORT: 11112,
    });
    expect(env.HTTP_PORT).toBeUndefined();
  });

  it('converts numbers from the environment', () => {
    expect(loadEnv(WorkerEnv, { SCP_PORT: '104', HTTP_PORT: '3901' })).toMatchObject({
      SCP_PORT: 104,
      HTTP_PORT: 3901,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadEnv(WorkerEnv, { SCP_PORT: '' }).SCP_PORT).toBe(11112);
  });

  it('fails at once naming every bad variable', () => {
    const load = () =>
      loadEnv(WorkerEnv, {
        SCP_PORT: '70000',
        AMQP_URL: 'http://broker',
        DATABASE_URL: 'mysql://db',
        LOG_LEVEL: 'loud',
      });
    expect(load).toThrow(EnvError);
    expect(load).toThrow(/SCP_PORT: .*65535/);
    expect(load).toThrow(/AMQP_URL must be an amqp:\/\/ or amqps:\/\/ URL/);
    expect(load).toThrow(/DATABASE_URL must be a postgres:\/\/ URL naming a database/);
    expect(load).toThrow(/LOG_LEVEL/);
  });
});
