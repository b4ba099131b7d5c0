import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kustomize, type Render, RENDERS, ROOT } from './kustomize';
import { type K8sObject, podTemplate } from './objects';
import {
  autoscalers,
  configServiceReplicas,
  defaultDeny,
  disruptionBudgets,
  drainWithinGrace,
  knownMetrics,
  networkPeers,
  noSecretValues,
  nonRoot,
  oneNamespace,
  pacsCidrsAgree,
  pinnedImages,
  type Policy,
  probesAndResources,
  readOnlyRootFilesystem,
  scalerQueryStates,
  secretKeysExist,
  topologySpread,
} from './policies';
import { schemaViolations } from './schemas';

// Offline: every overlay and shipped combination rendered by kubectl kustomize (npm run k8s:tools),
// validated against the Kubernetes, KEDA, Prometheus Operator and cert-manager schemas, and held
// to the policies a platform team checks (k8s/README.md, "Checked in CI").

/** The batch states as transfer_batch has them: the KEDA query must name real ones. */
const BATCH_STATES = (() => {
  const source = readFileSync(
    join(ROOT, 'apps/config-service/src/transfers/transfer-batch.entity.ts'),
    'utf8',
  );
  const union = /export type TransferBatchState = ([^;]+);/.exec(source)?.[1] ?? '';
  return [...union.matchAll(/'([a-z-]+)'/g)].map((match) => match[1]);
})();
/** The metric names the services register: every 'pacslink_…' string in apps/ and libs/ sources. */
const REGISTERED_METRICS = new Set(
  ['apps', 'libs']
    .flatMap((top) =>
      readdirSync(join(ROOT, top), { recursive: true, encoding: 'utf8' }).map((path) => join(top, path)),
    )
    .filter((path) => /^(apps|libs)\/[^/]+\/src\/.*(?<!\.spec)\.ts$/.test(path))
    .flatMap((path) =>
      [...readFileSync(join(ROOT, path), 'utf8').matchAll(/'(pacslink_[a-z_]+)'/g)].map((match) => match[1]),
    ),
);
/** Batches waiting for a slot: the backlog the issue says queue depth does not show. */
const WAITING_STATE = 'pending';

const POLICIES: Record<string, Policy> = {
  'probes and resources on every container': probesAndResources,
  'non-root as uid/gid 1000': nonRoot,
  'read-only root filesystem': readOnlyRootFilesystem,
  'no :latest or untagged image': pinnedImages,
  'a PodDisruptionBudget per Deployment': disruptionBudgets,
  'drain time within the grace period': drainWithinGrace,
  'topology spread over zones and nodes': topologySpread,
  'autoscalers own their Deployments': autoscalers,
  'the KEDA query names real batch states': scalerQueryStates(BATCH_STATES, WAITING_STATE),
  'alerts and autoscalers query registered metrics': knownMetrics(REGISTERED_METRICS),
};
/** The production overlay's allow-policies each workload is in (k8s/README.md, "Network policies"). */
const PEERS = {
  'config-service': [
    'allow-dns-egress',
    'allow-database-egress',
    'allow-broker-egress',
    'allow-ingress-controller-to-api',
    'allow-monitoring-to-metrics',
  ],
  'mwl-mpps-service': [
    'allow-dns-egress',
    'allow-database-egress',
    'allow-broker-egress',
    'allow-pacs-egress',
    'allow-monitoring-to-metrics',
  ],
  'dimse-worker': [
    'allow-dns-egress',
    'allow-broker-egress',
    'allow-pacs-egress',
    'allow-pacs-to-storage-scp',
    'allow-monitoring-to-metrics',
  ],
  'dicomweb-worker': [
    'allow-dns-egress',
    'allow-broker-egress',
    'allow-pacs-egress',
    'allow-monitoring-to-metrics',
  ],
  'pacslink-migrate': ['allow-dns-egress', 'allow-database-egress'],
};

const PRODUCTION_POLICIES: Record<string, Policy> = {
  'no Secret with values': noSecretValues,
  'a default-deny NetworkPolicy': defaultDeny,
  'the NetworkPolicies allow the PACS CIDRs of EGRESS_ALLOW_CIDRS': pacsCidrsAgree,
  'config-service has two replicas or more': configServiceReplicas(2),
};
/** The example site also lets config-service reach its OIDC issuer. */
const SITE_PEERS = {
  ...PEERS,
  'config-service': [...PEERS['config-service'], 'allow-oidc-issuer-egress'],
};

/** What each render holds, kind: count (the closing note of issue 14 quotes them). */
const PRODUCTION_COUNTS = {
  ConfigMap: 1,
  Deployment: 4,
  Job: 1,
  NetworkPolicy: 8,
  PersistentVolumeClaim: 1,
  PodDisruptionBudget: 4,
  Service: 5,
};
const COUNTS: Record<string, Record<string, number>> = {
  dev: {
    ConfigMap: 1,
    Deployment: 4,
    Job: 1,
    Namespace: 1,
    PersistentVolumeClaim: 1,
    PodDisruptionBudget: 4,
    Secret: 2,
    Service: 4,
  },
  production: PRODUCTION_COUNTS,
  'production + keda + monitoring + ingress': {
    ...PRODUCTION_COUNTS,
    Certificate: 1,
    Ingress: 1,
    PrometheusRule: 1,
    ScaledObject: 2,
    ServiceMonitor: 1,
  },
  'production + hpa + monitoring': {
    ...PRODUCTION_COUNTS,
    HorizontalPodAutoscaler: 2,
    PrometheusRule: 1,
    ServiceMonitor: 1,
  },
  'examples/hospital': {
    ...PRODUCTION_COUNTS,
    NetworkPolicy: 9,
    Certificate: 1,
    Ingress: 1,
    PrometheusRule: 1,
    ScaledObject: 2,
    ServiceMonitor: 1,
  },
};

function counts(objects: K8sObject[]): Record<string, number> {
  const byKind: Record<string, number> = {};
  for (const { kind } of objects) byKind[kind] = (byKind[kind] ?? 0) + 1;
  return byKind;
}

const renders = new Map<string, K8sObject[]>();
/** Rendered once per file; a missing kubectl fails every test that needs it, with the fix. */
function rendered(name: string): K8sObject[] {
  if (!renders.has(name))
    renders.set(name, kustomize(RENDERS.find((render) => render.name === name) as Render));
  return structuredClone(renders.get(name)!);
}

describe.each(RENDERS)('kubectl kustomize $overlay ($name)', (render) => {
  it('renders the expected objects', () => {
    expect(counts(rendered(render.name))).toEqual(COUNTS[render.name]);
  });

  it('validates every object against its schema', () => {
    expect(schemaViolations(rendered(render.name))).toEqual([]);
  });

  it.each(Object.entries(POLICIES))('%s', (_, policy) => {
    expect(policy(rendered(render.name))).toEqual([]);
  });

  it('puts every object in its namespace', () => {
    expect(oneNamespace(render.dev ? 'pacslink-dev' : 'pacslink')(rendered(render.name))).toEqual([]);
  });

  if (render.dev) {
    it('every Secret key a container reads is there', () => {
      expect(secretKeysExist(rendered(render.name))).toEqual([]);
    });
  } else {
    it.each(Object.entries(PRODUCTION_POLICIES))('%s', (_, policy) => {
      expect(policy(rendered(render.name))).toEqual([]);
    });

    it('each workload reaches only its peers', () => {
      const expected = render.name === 'examples/hospital' ? SITE_PEERS : PEERS;
      expect(networkPeers(expected)(rendered(render.name))).toEqual([]);
    });
  }
});

/** Each check, shown failing on one broken object: a policy that passes everything proves nothing. */
describe('the checks catch a broken manifest', () => {
  const find = (objects: K8sObject[], kind: string, name: string): K8sObject =>
    objects.find((object) => object.kind === kind && object.metadata.name === name)!;
  const container = (objects: K8sObject[], kind: string, name: string) =>
    podTemplate(find(objects, kind, name))!.spec.containers[0];

  it('schemas: a wrong field type and an unknown kind', () => {
    const objects = rendered('production');
    (container(objects, 'Deployment', 'dimse-worker') as unknown as { ports: unknown[] }).ports = [
      { containerPort: 'dicom' },
    ];
    objects.push({ apiVersion: 'example.org/v1', kind: 'Widget', metadata: { name: 'w' } });
    expect(schemaViolations(objects)).toEqual([
      expect.stringMatching(/^Deployment\/dimse-worker: .*containerPort must be integer/),
      'Widget/w: no schema for example.org/v1 Widget',
    ]);
  });

  it('probes and resources', () => {
    const objects = rendered('production');
    delete container(objects, 'Deployment', 'config-service').readinessProbe;
    delete container(objects, 'Job', 'pacslink-migrate').resources;
    expect(probesAndResources(objects)).toEqual([
      'Deployment/config-service container config-service: no readinessProbe',
      'Job/pacslink-migrate container config-service: no resources.requests.cpu',
      'Job/pacslink-migrate container config-service: no resources.requests.memory',
      'Job/pacslink-migrate container config-service: no resources.limits.memory',
    ]);
  });

  it('non-root', () => {
    const objects = rendered('production');
    container(objects, 'Deployment', 'dicomweb-worker').securityContext!.runAsUser = 0;
    delete podTemplate(find(objects, 'Deployment', 'dimse-worker'))!.spec.securityContext!.fsGroup;
    expect(nonRoot(objects).sort()).toEqual([
      'Deployment/dicomweb-worker container dicomweb-worker: runAsUser is not 1000',
      'Deployment/dimse-worker: mounts a volume claim without fsGroup 1000',
    ]);
  });

  it('read-only root filesystem', () => {
    const objects = rendered('production');
    container(objects, 'Job', 'pacslink-migrate').securityContext!.readOnlyRootFilesystem = false;
    expect(readOnlyRootFilesystem(objects)).toEqual([
      'Job/pacslink-migrate container config-service: readOnlyRootFilesystem is not true',
    ]);
  });

  it('pinned images', () => {
    const objects = rendered('production');
    container(objects, 'Deployment', 'config-service').image = 'registry.example/pacslink:latest';
    container(objects, 'Deployment', 'dimse-worker').image = 'registry.example:5000/pacslink';
    expect(pinnedImages(objects)).toEqual([
      'Deployment/config-service container config-service: image registry.example/pacslink:latest is not pinned',
      'Deployment/dimse-worker container dimse-worker: image registry.example:5000/pacslink is not pinned',
    ]);
  });

  it('no Secret with values outside dev', () => {
    expect(noSecretValues(rendered('dev'))).toHaveLength(2);
  });

  it('Secret keys exist (dev)', () => {
    const objects = rendered('dev');
    const env = container(objects, 'Deployment', 'mwl-mpps-service').env!;
    env.find((variable) => variable.name === 'DATABASE_URL')!.valueFrom!.secretKeyRef!.key = 'DATABASE_URL';
    expect(secretKeysExist(objects)).toEqual([
      expect.stringMatching(
        /^Deployment\/mwl-mpps-service container mwl-mpps-service: DATABASE_URL from pacslink-secrets-\w+\.DATABASE_URL, which is not there$/,
      ),
    ]);
  });

  it('a PodDisruptionBudget per Deployment', () => {
    const objects = rendered('production').filter(
      (object) => !(object.kind === 'PodDisruptionBudget' && object.metadata.name === 'mwl-mpps-service'),
    );
    expect(disruptionBudgets(objects)).toEqual([
      'Deployment/mwl-mpps-service: no PodDisruptionBudget selects its pods',
    ]);
  });

  it('drain time within the grace period', () => {
    const objects = rendered('production');
    const config = objects.find((object) => object.kind === 'ConfigMap')!;
    config.data!.SHUTDOWN_DRAIN_MS = '21000';
    expect(drainWithinGrace(objects)).toHaveLength(4);
    expect(drainWithinGrace(objects)[0]).toBe(
      'Deployment/config-service container config-service: preStop 5 s + drain 21 s + 5 s > grace 30 s',
    );
  });

  it('topology spread', () => {
    const objects = rendered('production');
    podTemplate(find(objects, 'Deployment', 'dimse-worker'))!.spec.topologySpreadConstraints!.pop();
    expect(topologySpread(objects)).toEqual([
      'Deployment/dimse-worker: no topology spread over kubernetes.io/hostname',
    ]);
  });

  it('default-deny NetworkPolicy', () => {
    const objects = rendered('production');
    expect(defaultDeny(objects.filter((object) => object.metadata.name !== 'default-deny'))).toEqual([
      'no default-deny NetworkPolicy (every pod, Ingress and Egress, no rules)',
    ]);
    (find(objects, 'NetworkPolicy', 'default-deny').spec as { policyTypes: string[] }).policyTypes = [
      'Ingress',
    ];
    expect(defaultDeny(objects)).toHaveLength(1);
  });

  it('PACS CIDRs agree with EGRESS_ALLOW_CIDRS', () => {
    const objects = rendered('examples/hospital');
    objects.find((object) => object.kind === 'ConfigMap')!.data!.EGRESS_ALLOW_CIDRS = '10.20.0.0/16';
    expect(pacsCidrsAgree(objects)).toEqual([
      expect.stringMatching(
        /EGRESS_ALLOW_CIDRS \[10.20.0.0\/16\] is not allow-pacs-egress \[10.20.0.0\/16,10.30.4.0\/24\]$/,
      ),
    ]);
  });

  it('network peers', () => {
    const objects = rendered('production');
    const database = find(objects, 'NetworkPolicy', 'allow-database-egress').spec as {
      podSelector: { matchExpressions: { values: string[] }[] };
    };
    database.podSelector.matchExpressions[0].values = ['config-service', 'mwl-mpps-service', 'dimse-worker'];
    expect(networkPeers(PEERS)(objects)).toEqual([
      expect.stringMatching(/^Deployment\/dimse-worker: allowed \[.*allow-database-egress.*\], expected/),
      expect.stringMatching(/^Job\/pacslink-migrate: allowed \[allow-dns-egress\], expected/),
    ]);
  });

  it('config-service replicas', () => {
    const objects = rendered('production');
    (find(objects, 'Deployment', 'config-service').spec as { replicas: number }).replicas = 1;
    expect(configServiceReplicas(2)(objects)).toEqual(['Deployment/config-service: fewer than 2 replicas']);
  });

  it('autoscalers', () => {
    const objects = rendered('production + keda + monitoring + ingress');
    (find(objects, 'Deployment', 'dimse-worker').spec as { replicas: number }).replicas = 2;
    (find(objects, 'ScaledObject', 'dicomweb-worker').spec as { minReplicaCount: number }).minReplicaCount =
      0;
    expect(autoscalers(objects)).toEqual([
      'ScaledObject/dicomweb-worker: bounds 0..4 (want 2 <= min <= max)',
      'ScaledObject/dimse-worker: Deployment/dimse-worker sets replicas itself',
    ]);
  });

  it('the KEDA query names real batch states', () => {
    expect(BATCH_STATES).toContain(WAITING_STATE);
    const objects = rendered('production + keda + monitoring + ingress');
    const trigger = (
      find(objects, 'ScaledObject', 'dimse-worker').spec as { triggers: { metadata: { query: string } }[] }
    ).triggers[0];
    trigger.metadata.query = 'sum(pacslink_transfer_batches{state="queued"})';
    expect(scalerQueryStates(BATCH_STATES, WAITING_STATE)(objects)).toEqual([
      `ScaledObject/dimse-worker: no batch state queued (${BATCH_STATES.join(', ')})`,
      'ScaledObject/dimse-worker: the query leaves out pending batches',
    ]);
  });

  it('registered metrics', () => {
    const objects = rendered('production + keda + monitoring + ingress');
    const rule = find(objects, 'PrometheusRule', 'pacslink').spec as {
      groups: { rules: { expr: string }[] }[];
    };
    rule.groups[0].rules[0].expr = 'rate(pacslink_dead_letters_total[5m]) > 0';
    expect(knownMetrics(REGISTERED_METRICS)(objects)).toEqual([
      'PrometheusRule/pacslink PacslinkDeadLettersGrowing: no metric pacslink_dead_letters_total in apps/ or libs/',
    ]);
  });

  it('one namespace', () => {
    const objects = rendered('production');
    delete find(objects, 'Job', 'pacslink-migrate').metadata.namespace;
    expect(oneNamespace('pacslink')(objects)).toEqual([
      'Job/pacslink-migrate: namespace (none), not pacslink',
    ]);
  });
});
