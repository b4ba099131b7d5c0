import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ServiceEnv } from '@pacslink/platform';

// A stopping pod gets its preStop pause, then SIGTERM and the service's drain time, then a few
// seconds to close, all inside terminationGracePeriodSeconds (k8s/README.md, "Stopping"); else the
// kubelet's SIGKILL cuts the drain short. docker compose's stop_grace_period likewise.

const ROOT = join(__dirname, '../../..');
const APPS = ['config-service', 'dicomweb-worker', 'dimse-worker', 'mwl-mpps-service'];
/** After a drain that ran out: closing the connections and the exit itself. */
const CLOSE_SECONDS = 5;

interface Container {
  lifecycle?: { preStop?: { exec?: { command?: string[] } } };
}
interface Deployment {
  kind: string;
  metadata: { name: string };
  spec: { template: { spec: { terminationGracePeriodSeconds?: number; containers: Container[] } } };
}

const deployments = readdirSync(join(ROOT, 'k8s/base'))
  .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(ROOT, 'k8s/base', file), 'utf8')).map(
      (document) => document.toJSON() as Deployment,
    ),
  )
  .filter((manifest) => manifest.kind === 'Deployment');

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

describe('the Kubernetes grace period and the drain time', () => {
  it('every Deployment pauses before SIGTERM and grants the pause, the drain and the close', () => {
    expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual(APPS);
    for (const deployment of deployments) {
      const { terminationGracePeriodSeconds, containers } = deployment.spec.template.spec;
      const command = containers[0].lifecycle?.preStop?.exec?.command ?? [];
      expect({ app: deployment.metadata.name, preStop: command[0] }).toEqual({
        app: deployment.metadata.name,
        preStop: 'sleep',
      });
      const pause = Number(command[1]);
      expect(pause).toBeGreaterThanOrEqual(3);
      expect({ app: deployment.metadata.name, grace: terminationGracePeriodSeconds }).toEqual({
        app: deployment.metadata.name,
        grace: expect.any(Number) as unknown,
      });
      expect(terminationGracePeriodSeconds).toBeGreaterThanOrEqual(pause + drainSeconds() + CLOSE_SECONDS);
    }
  });

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
