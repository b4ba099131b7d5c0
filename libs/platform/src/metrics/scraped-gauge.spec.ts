import { Registry } from 'prom-client';
import { SCRAPE_READ_TIMEOUT_MS, scrapedGauge, type GaugeSample } from './scraped-gauge';

describe('scrapedGauge', () => {
  const warnings: unknown[] = [];
  const logger = { warn: (message: unknown) => warnings.push(message) };

  function gauge(read: () => Promise<GaugeSample<'state'>[]>): Registry {
    const registry = new Registry();
    scrapedGauge(registry, { name: 'test_gauge', help: 'h', labelNames: ['state'], logger, read });
    return registry;
  }

  it('shows exactly the samples of the latest read', async () => {
    let samples = [{ labels: { state: 'pending' }, value: 3 }];
    const registry = gauge(() => Promise.resolve(samples));
    expect(await registry.metrics()).toContain('test_gauge{state="pending"} 3');
    samples = [{ labels: { state: 'running' }, value: 1 }];
    const text = await registry.metrics();
    expect(text).toContain('test_gauge{state="running"} 1');
    expect(text).not.toContain('pending');
  });

  it('leaves the gauge out, and says why, when the read fails', async () => {
    const registry = gauge(() => Promise.reject(new Error('connection refused')));
    expect(await registry.metrics()).not.toMatch(/^test_gauge/m);
    expect(warnings).toContainEqual({ msg: 'test_gauge not read', reason: 'connection refused' });
  });

  it('answers within the bound when the read never ends', async () => {
    const registry = gauge(() => new Promise(() => undefined));
    const started = Date.now();
    expect(await registry.metrics()).not.toMatch(/^test_gauge/m);
    expect(Date.now() - started).toBeLessThan(SCRAPE_READ_TIMEOUT_MS + 1_000);
  });
});
