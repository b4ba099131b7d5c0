import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getMetadataStorage } from 'class-validator';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigServiceEnv } from '../src/config';
/* eslint-disable @nx/enforce-module-boundaries --
 * This test holds every app's environment against the deployments; runtime code never imports
 * another app. */
import { DicomwebWorkerEnv } from '../../dicomweb-worker/src/config';
import { DimseWorkerEnv } from '../../dimse-worker/src/config';
import { MwlMppsEnv } from '../../mwl-mpps-service/src/config';
/* eslint-enable @nx/enforce-module-boundaries */

// Each service gets only the secrets it reads, and every secret it reads: the Kustomize base and
// docker-compose.yml against the variables each app's environment class declares.

const ROOT = join(__dirname, '../../..');
const APPS: Record<string, new () => object> = {
  'config-service': ConfigServiceEnv,
  'dicomweb-worker': DicomwebWorkerEnv,
  'dimse-worker': DimseWorkerEnv,
  'mwl-mpps-service': MwlMppsEnv,
};

/** The variables an app reads: the properties of its environment class (validated at boot). */
function declared(app: string): Set<string> {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(APPS[app], '', true, false);
  return new Set(metadata.map((entry) => entry.propertyName));
}

interface EnvVar {
  name: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: { template: { spec: { containers: { env?: EnvVar[] }[] } } };
}

const deployments = readdirSync(join(ROOT, 'k8s/base'))
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(ROOT, 'k8s/base', file), 'utf8')).map(
      (document) => document.toJSON() as Manifest,
    ),
  )
  .filter((manifest) => manifest.kind === 'Deployment');

const fromSecret = (deployment: Manifest): string[] =>
  deployment.spec.template.spec.containers
    .flatMap((container) => container.env ?? [])
    .filter((variable) => variable.valueFrom?.secretKeyRef?.name === 'pacslink-secrets')
    .map((variable) => variable.name)
    .sort();

/** What the Secret pacslink-secrets holds: whatever any Deployment takes from it. */
const SECRET_VARIABLES = new Set(deployments.flatMap(fromSecret));
const secretsRead = (app: string) => [...declared(app)].filter((name) => SECRET_VARIABLES.has(name)).sort();

describe('each service gets only the secrets it reads', () => {
  it('Kustomize: every Deployment takes from pacslink-secrets exactly the variables its app reads', () => {
    expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual(
      Object.keys(APPS).sort(),
    );
    for (const deployment of deployments) {
      const app = deployment.metadata.name;
      expect([app, fromSecret(deployment)]).toEqual([app, secretsRead(app)]);
    }
    // The ones this rule is about, spelled out.
    expect(secretsRead('config-service')).toEqual(
      expect.arrayContaining(['API_KEYS', 'SECRETS_KEY', 'SECRETS_PREVIOUS_KEYS']),
    );
    expect(secretsRead('dicomweb-worker')).toEqual(['AMQP_URL', 'SECRETS_KEY', 'SECRETS_PREVIOUS_KEYS']);
    expect(secretsRead('dimse-worker')).toEqual(['AMQP_URL']);
    expect(secretsRead('mwl-mpps-service')).toEqual(['AMQP_URL', 'DATABASE_URL']);
  });

  it('docker-compose.yml: every pacslink service gets its secrets, and no variable it does not read', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, unknown> }>;
    };
    for (const app of Object.keys(APPS)) {
      const given = Object.keys(compose.services[app]?.environment ?? {}).sort();
      expect([app, given.filter((name) => !declared(app).has(name))]).toEqual([app, []]);
      expect([app, secretsRead(app).filter((name) => !given.includes(name))]).toEqual([app, []]);
    }
  });
});
