import {
  allContainers,
  type K8sObject,
  ofKind,
  podTemplate,
  ref,
  type Selector,
  selects,
  WORKLOAD_KINDS,
} from './objects';

/**
 * What a platform team checks before it accepts the manifests. Each policy returns its violations
 * (none: the objects pass), so that a test can show it on a deliberately broken object too.
 */
export type Policy = (objects: K8sObject[]) => string[];

/** The uid and gid the image runs as (Dockerfile: USER 1000:1000); the store's files are theirs. */
export const APP_UID = 1000;
/** After a drain that ran out: closing connections and the exit (k8s/README.md, "Stopping"). */
export const CLOSE_SECONDS = 5;

const workloads = (objects: K8sObject[]): K8sObject[] =>
  objects.filter((object) => WORKLOAD_KINDS.includes(object.kind));

/** A Deployment's containers are probed for readiness and liveness; every container has resources. */
export const probesAndResources: Policy = (objects) =>
  workloads(objects).flatMap((workload) =>
    allContainers(podTemplate(workload)!.spec).flatMap((container) => {
      const where = `${ref(workload)} container ${container.name}`;
      const problems: string[] = [];
      if (workload.kind !== 'Job') {
        if (!container.readinessProbe) problems.push(`${where}: no readinessProbe`);
        if (!container.livenessProbe) problems.push(`${where}: no livenessProbe`);
      }
      const { requests = {}, limits = {} } = container.resources ?? {};
      for (const [kind, resource] of [
        ['requests', 'cpu'],
        ['requests', 'memory'],
        ['limits', 'memory'],
      ] as const) {
        const values = kind === 'requests' ? requests : limits;
        if (!values[resource]) problems.push(`${where}: no resources.${kind}.${resource}`);
      }
      return problems;
    }),
  );

/** Pods run as the image's non-root user and group; pods mounting a volume claim own it by fsGroup. */
export const nonRoot: Policy = (objects) =>
  workloads(objects).flatMap((workload) => {
    const pod = podTemplate(workload)!.spec;
    const problems: string[] = [];
    const context = pod.securityContext ?? {};
    for (const container of allContainers(pod)) {
      const own = container.securityContext ?? {};
      const where = `${ref(workload)} container ${container.name}`;
      if ((own.runAsNonRoot ?? context.runAsNonRoot) !== true)
        problems.push(`${where}: runAsNonRoot is not true`);
      if ((own.runAsUser ?? context.runAsUser) !== APP_UID)
        problems.push(`${where}: runAsUser is not ${APP_UID}`);
      if ((own.runAsGroup ?? context.runAsGroup) !== APP_UID)
        problems.push(`${where}: runAsGroup is not ${APP_UID}`);
    }
    if ((pod.volumes ?? []).some((volume) => volume.persistentVolumeClaim) && context.fsGroup !== APP_UID) {
      problems.push(`${ref(workload)}: mounts a volume claim without fsGroup ${APP_UID}`);
    }
    return problems;
  });

/** No container writes its image's filesystem or gains privileges. */
export const readOnlyRootFilesystem: Policy = (objects) =>
  workloads(objects).flatMap((workload) =>
    allContainers(podTemplate(workload)!.spec).flatMap((container) => {
      const where = `${ref(workload)} container ${container.name}`;
      const problems: string[] = [];
      if (container.securityContext?.readOnlyRootFilesystem !== true) {
        problems.push(`${where}: readOnlyRootFilesystem is not true`);
      }
      if (container.securityContext?.allowPrivilegeEscalation !== false) {
        problems.push(`${where}: allowPrivilegeEscalation is not false`);
      }
      return problems;
    }),
  );

/** Every image names a tag other than latest, or a digest. */
export const pinnedImages: Policy = (objects) =>
  workloads(objects).flatMap((workload) =>
    allContainers(podTemplate(workload)!.spec).flatMap(({ name, image }) => {
      if (image.includes('@sha256:')) return [];
      const tag = /:([^:/]+)$/.exec(image)?.[1];
      return tag && tag !== 'latest'
        ? []
        : [`${ref(workload)} container ${name}: image ${image} is not pinned`];
    }),
  );

/** Secrets with values exist only in the dev overlay; elsewhere they are created in the cluster. */
export const noSecretValues: Policy = (objects) =>
  ofKind(objects, 'Secret')
    .filter((secret) => Object.keys({ ...secret.data, ...secret.stringData }).length > 0)
    .map((secret) => `${ref(secret)} carries values`);

/** A PodDisruptionBudget covers every Deployment's pods. */
export const disruptionBudgets: Policy = (objects) =>
  ofKind(objects, 'Deployment')
    .filter(
      (deployment) =>
        !ofKind(objects, 'PodDisruptionBudget').some((budget) =>
          selects(
            (budget.spec as { selector: Selector }).selector,
            podTemplate(deployment)!.metadata?.labels,
          ),
        ),
    )
    .map((deployment) => `${ref(deployment)}: no PodDisruptionBudget selects its pods`);

/** preStop pause + SHUTDOWN_DRAIN_MS + close time fit in terminationGracePeriodSeconds. */
export const drainWithinGrace: Policy = (objects) =>
  ofKind(objects, 'Deployment').flatMap((deployment) => {
    const pod = podTemplate(deployment)!.spec;
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    return pod.containers.flatMap((container) => {
      const where = `${ref(deployment)} container ${container.name}`;
      const [sleep, seconds] = container.lifecycle?.preStop?.exec?.command ?? [];
      const drainMs = envValue(objects, container, 'SHUTDOWN_DRAIN_MS');
      if (sleep !== 'sleep' || !(Number(seconds) > 0)) return [`${where}: no preStop sleep`];
      if (drainMs === undefined) return [`${where}: SHUTDOWN_DRAIN_MS is not set`];
      const needed = Number(seconds) + Number(drainMs) / 1000 + CLOSE_SECONDS;
      return needed <= grace
        ? []
        : [
            `${where}: preStop ${seconds} s + drain ${Number(drainMs) / 1000} s + ${CLOSE_SECONDS} s > grace ${grace} s`,
          ];
    });
  });

/** Replicas spread over zones and over nodes. */
export const topologySpread: Policy = (objects) =>
  ofKind(objects, 'Deployment').flatMap((deployment) => {
    const keys = (podTemplate(deployment)!.spec.topologySpreadConstraints ?? []).map(
      (constraint) => constraint.topologyKey,
    );
    return ['topology.kubernetes.io/zone', 'kubernetes.io/hostname']
      .filter((key) => !keys.includes(key))
      .map((key) => `${ref(deployment)}: no topology spread over ${key}`);
  });

/** A NetworkPolicy selecting every pod that allows nothing in and nothing out. */
export const defaultDeny: Policy = (objects) => {
  const denies = ofKind(objects, 'NetworkPolicy').some((policy) => {
    const spec = policy.spec as {
      podSelector: Selector;
      policyTypes?: string[];
      ingress?: unknown[];
      egress?: unknown[];
    };
    const everyPod =
      Object.keys(spec.podSelector.matchLabels ?? {}).length === 0 &&
      (spec.podSelector.matchExpressions ?? []).length === 0;
    return (
      everyPod &&
      ['Ingress', 'Egress'].every((type) => spec.policyTypes?.includes(type)) &&
      (spec.ingress ?? []).length === 0 &&
      (spec.egress ?? []).length === 0
    );
  });
  return denies ? [] : ['no default-deny NetworkPolicy (every pod, Ingress and Egress, no rules)'];
};

/** The PACS CIDRs of the NetworkPolicies are EGRESS_ALLOW_CIDRS, once that names CIDRs. */
export const pacsCidrsAgree: Policy = (objects) => {
  const egress = cidrs(objects, 'allow-pacs-egress', 'egress', 'to');
  const ingress = cidrs(objects, 'allow-pacs-to-storage-scp', 'ingress', 'from');
  const problems: string[] = [];
  if (egress.join() !== ingress.join()) {
    problems.push(
      `allow-pacs-egress [${egress.join()}] and allow-pacs-to-storage-scp [${ingress.join()}] differ`,
    );
  }
  for (const configMap of ofKind(objects, 'ConfigMap')) {
    const list = configMap.data?.EGRESS_ALLOW_CIDRS?.split(',').map((entry) => entry.trim());
    // The shipped placeholder is not a list of CIDRs (the services refuse it): nothing to compare.
    if (!list?.every((entry) => /^[0-9a-f.:]+\/\d+$/i.test(entry))) continue;
    if (list.sort().join() !== egress.join()) {
      problems.push(
        `${ref(configMap)} EGRESS_ALLOW_CIDRS [${list.join()}] is not allow-pacs-egress [${egress.join()}]`,
      );
    }
  }
  return problems;
};

/**
 * Which allow-policies select each workload's pods, by app name: the peers each may reach or be
 * reached from (the production overlay names one policy per peer). The workers get no database.
 */
export const networkPeers =
  (expected: Record<string, string[]>): Policy =>
  (objects) =>
    workloads(objects).flatMap((workload) => {
      const labels = podTemplate(workload)!.metadata?.labels ?? {};
      const app = labels['app.kubernetes.io/name'];
      const allowed = ofKind(objects, 'NetworkPolicy')
        .filter((policy) => policy.metadata.name.startsWith('allow-'))
        .filter((policy) => selects((policy.spec as { podSelector: Selector }).podSelector, labels))
        .map((policy) => policy.metadata.name)
        .sort();
      const want = [...(expected[app] ?? [])].sort();
      return allowed.join() === want.join()
        ? []
        : [`${ref(workload)}: allowed [${allowed.join()}], expected [${want.join()}]`];
    });

/** config-service runs at least `min` replicas (it is not autoscaled). */
export const configServiceReplicas =
  (min: number): Policy =>
  (objects) =>
    ofKind(objects, 'Deployment')
      .filter((deployment) => deployment.metadata.name === 'config-service')
      .filter((deployment) => !(Number((deployment.spec as { replicas?: number }).replicas ?? 1) >= min))
      .map((deployment) => `${ref(deployment)}: fewer than ${min} replicas`);

/**
 * An autoscaled Deployment exists, has one autoscaler and no replica count of its own (which every
 * apply would set again), and its bounds keep two replicas for availability.
 */
export const autoscalers: Policy = (objects) => {
  const scalers = [
    ...ofKind(objects, 'ScaledObject').map((scaler) => {
      const spec = scaler.spec as {
        scaleTargetRef: { name: string };
        minReplicaCount?: number;
        maxReplicaCount?: number;
      };
      return {
        scaler,
        target: spec.scaleTargetRef.name,
        min: spec.minReplicaCount ?? 0,
        max: spec.maxReplicaCount ?? 100,
      };
    }),
    ...ofKind(objects, 'HorizontalPodAutoscaler').map((scaler) => {
      const spec = scaler.spec as {
        scaleTargetRef: { name: string };
        minReplicas?: number;
        maxReplicas: number;
      };
      return { scaler, target: spec.scaleTargetRef.name, min: spec.minReplicas ?? 1, max: spec.maxReplicas };
    }),
  ];
  return scalers.flatMap(({ scaler, target, min, max }) => {
    const deployment = ofKind(objects, 'Deployment').find((candidate) => candidate.metadata.name === target);
    if (!deployment) return [`${ref(scaler)}: no Deployment ${target}`];
    const problems: string[] = [];
    if (scalers.filter((other) => other.target === target).length > 1)
      problems.push(`${ref(scaler)}: ${target} has two autoscalers`);
    if ((deployment.spec as { replicas?: number }).replicas !== undefined) {
      problems.push(`${ref(scaler)}: ${ref(deployment)} sets replicas itself`);
    }
    if (min < 2 || max < min) problems.push(`${ref(scaler)}: bounds ${min}..${max} (want 2 <= min <= max)`);
    return problems;
  });
};

/** The batch states a ScaledObject's Prometheus query names exist, and the waiting one is among them. */
export const scalerQueryStates =
  (batchStates: readonly string[], waiting: string): Policy =>
  (objects) =>
    ofKind(objects, 'ScaledObject').flatMap((scaler) =>
      (scaler.spec as { triggers: { type: string; metadata: { query?: string } }[] }).triggers
        .filter((trigger) => trigger.type === 'prometheus')
        .flatMap(({ metadata: { query = '' } }) => {
          const named = /state=~?"([^"]*)"/.exec(query)?.[1].split('|') ?? [];
          const unknown = named.filter((state) => !batchStates.includes(state));
          const problems = unknown.map(
            (state) => `${ref(scaler)}: no batch state ${state} (${batchStates.join(', ')})`,
          );
          if (!named.includes(waiting))
            problems.push(`${ref(scaler)}: the query leaves out ${waiting} batches`);
          return problems;
        }),
    );

/**
 * The pacslink metrics that alerts and autoscalers query are ones the code registers (a histogram's
 * _bucket, _count and _sum series included): a renamed metric would leave an alert that never
 * fires and an autoscaler that never scales.
 */
export const knownMetrics =
  (registered: ReadonlySet<string>): Policy =>
  (objects) =>
    [
      ...ofKind(objects, 'PrometheusRule').flatMap((rule) =>
        (rule.spec as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] }).groups
          .flatMap((group) => group.rules)
          .map((entry) => ({ where: `${ref(rule)} ${entry.alert ?? entry.record}`, query: entry.expr })),
      ),
      ...ofKind(objects, 'ScaledObject').flatMap((scaler) =>
        (scaler.spec as { triggers: { metadata: { query?: string } }[] }).triggers.map((trigger) => ({
          where: ref(scaler),
          query: trigger.metadata.query ?? '',
        })),
      ),
    ].flatMap(({ where, query }) =>
      [...new Set(query.match(/\bpacslink_[a-z_]+/g) ?? [])]
        .filter((name) => !registered.has(name) && !registered.has(name.replace(/_(bucket|count|sum)$/, '')))
        .map((name) => `${where}: no metric ${name} in apps/ or libs/`),
    );

/** Where the Secrets are rendered (dev): every key a container reads from one is there. */
export const secretKeysExist: Policy = (objects) =>
  workloads(objects).flatMap((workload) =>
    allContainers(podTemplate(workload)!.spec).flatMap((container) =>
      (container.env ?? []).flatMap(({ name, valueFrom }) => {
        const reference = valueFrom?.secretKeyRef;
        if (!reference || reference.optional) return [];
        const secret = ofKind(objects, 'Secret').find(
          (candidate) => candidate.metadata.name === reference.name,
        );
        return secret?.data?.[reference.key] !== undefined
          ? []
          : [
              `${ref(workload)} container ${container.name}: ${name} from ${reference.name}.${reference.key}, which is not there`,
            ];
      }),
    ),
  );

/** Every namespaced object lands in the one namespace (a component's objects too). */
export const oneNamespace =
  (namespace: string): Policy =>
  (objects) =>
    objects
      .filter((object) => !['Namespace', 'ClusterIssuer'].includes(object.kind))
      .filter((object) => object.metadata.namespace !== namespace)
      .map(
        (object) => `${ref(object)}: namespace ${object.metadata.namespace ?? '(none)'}, not ${namespace}`,
      );

function envValue(
  objects: K8sObject[],
  container: { env?: { name: string; value?: string }[]; envFrom?: { configMapRef?: { name: string } }[] },
  name: string,
): string | undefined {
  const own = container.env?.find((variable) => variable.name === name)?.value;
  if (own !== undefined) return own;
  return (container.envFrom ?? [])
    .map((source) =>
      ofKind(objects, 'ConfigMap').find((map) => map.metadata.name === source.configMapRef?.name),
    )
    .map((map) => map?.data?.[name])
    .find((value) => value !== undefined);
}

function cidrs(
  objects: K8sObject[],
  policy: string,
  direction: 'ingress' | 'egress',
  side: 'to' | 'from',
): string[] {
  const rules =
    (ofKind(objects, 'NetworkPolicy').find((candidate) => candidate.metadata.name === policy)?.spec?.[
      direction
    ] as Record<string, { ipBlock?: { cidr: string } }[]>[] | undefined) ?? [];
  return rules
    .flatMap((rule) => rule[side] ?? [])
    .flatMap((peer) => (peer.ipBlock ? [peer.ipBlock.cidr] : []))
    .sort();
}
