import { migrateCommand } from './migrate-command';

describe('migrateCommand', () => {
  afterEach(() => {
    process.exitCode = undefined;
    jest.restoreAllMocks();
  });

  it('without MIGRATE_DATABASE_URL or DATABASE_URL: one error line naming both, exit code 1', async () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await migrateCommand({ service: 'config-service', schema: 'config', migrations: [], env: {} });
    expect(process.exitCode).toBe(1);
    expect(stdout).not.toHaveBeenCalled();
    expect(stderr).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String(stderr.mock.calls[0][0]))).toMatchObject({
      level: 'error',
      service: 'config-service',
      msg: 'migrate failed',
      schema: 'config',
      reason: 'MIGRATE_DATABASE_URL (or DATABASE_URL) must name the database to migrate',
    });
  });

  it('a URL that names no database: refused before connecting', async () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await migrateCommand({
      service: 'mwl-mpps-service',
      schema: 'mwl',
      migrations: [],
      env: { MIGRATE_DATABASE_URL: 'postgres://owner@db.example:5432/' },
    });
    expect(process.exitCode).toBe(1);
    expect(String(stderr.mock.calls[0][0])).toContain('names no database');
  });
});
