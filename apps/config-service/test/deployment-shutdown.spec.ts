import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ServiceEnv } from '@pacslink/platform';

// docker compose's stop_grace_period must cover the service's drain time and a few seconds to close,
// else its SIGKILL cuts the drain short. The same rule for Kubernetes (preStop pause + drain + close
// inside terminationGracePeriodSeconds) is checked on every rendered overlay in k8s/test.

const ROOT = join(__dirname, '../../..');
const APPS = ['config-service', 'dicomweb-worker', 'dimse-worker', 'mwl-mpps-service'];
/** After a drain that ran out: closing the connections and the exit itself. */
const CLOSE_SECONDS = 5;

/** SHUTDOWN_DRAIN_MS as the base ConfigMap sets it, else the services' default. */
function drainSeconds(): number {
  const kustomization = parse(readFileSync(join(ROOT, 'k8s/base/kustomization.yaml'), 'utf8')) as {
    configMapGenerator: { name: string; literals: string[] }[];
  };
  const literal = kustomization.configMapGenerator
    .flatMap((generator) => generator.literals)
    .find((entry) => entry.startsWith('SHUTDOWN_DRAIN_MS='));
  return Number(literal?.split('=')[1] ?? new ServiceEnv().SHUTDOWN_DRAIN_MS) / 1000;
}

describe('the grace period and the drain time', () => {
  it('docker compose waits the drain and the close before it kills a service', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { stop_grace_period?: string }>;
    };
    for (const app of APPS) {
      const period = compose.services[app].stop_grace_period ?? '10s';
      expect({ app, period }).toEqual({ app, period: expect.stringMatching(/^\d+s$/) as unknown });
      expect(parseInt(period, 10)).toBeGreaterThanOrEqual(drainSeconds() + CLOSE_SECONDS);
    }
  });
});
