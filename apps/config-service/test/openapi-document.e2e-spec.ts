import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startConfigService, type RunningConfigService } from './config-service.harness';

/**
 * docs/openapi.json is the REST API as config-service serves it at /api/docs-json: this test fails
 * when the two differ, so that the committed document cannot drift from the code. After a change
 * to the API, `npm run openapi:update` writes the served document there.
 */
const COMMITTED = join(__dirname, '..', '..', '..', 'docs', 'openapi.json');

describe('docs/openapi.json', () => {
  let service: RunningConfigService;

  beforeAll(async () => {
    service = await startConfigService();
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('is the document config-service serves (after an API change: npm run openapi:update)', async () => {
    const response = await fetch(`${service.baseUrl}/api/docs-json`, {
      headers: { authorization: `Bearer ${service.apiKey}` },
    });
    expect(response.status).toBe(200);
    const served = (await response.json()) as object;
    if (process.env.UPDATE_OPENAPI === '1')
      await writeFile(COMMITTED, `${JSON.stringify(served, null, 2)}\n`);
    const committed = JSON.parse(await readFile(COMMITTED, 'utf8')) as object;
    expect(committed).toEqual(served);
  });
});
