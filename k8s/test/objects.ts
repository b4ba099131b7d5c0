/** The parts of rendered Kubernetes objects the policies read (the schemas check the rest). */

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface Probe {
  httpGet?: unknown;
  tcpSocket?: unknown;
  exec?: unknown;
  grpc?: unknown;
}

export interface Container {
  name: string;
  image: string;
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
  }[];
  envFrom?: { configMapRef?: { name: string } }[];
  lifecycle?: { preStop?: { exec?: { command?: string[] } } };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
  };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; fsGroup?: number };
  topologySpreadConstraints?: { topologyKey: string; labelSelector?: unknown }[];
  volumes?: { name: string; persistentVolumeClaim?: unknown }[];
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: PodSpec;
}

export interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'];

/** `Kind/name`, as the violations name objects. */
export const ref = (object: K8sObject): string => `${object.kind}/${object.metadata.name}`;

export const ofKind = (objects: K8sObject[], kind: string): K8sObject[] =>
  objects.filter((object) => object.kind === kind);

export function podTemplate(object: K8sObject): PodTemplate | undefined {
  if (!WORKLOAD_KINDS.includes(object.kind)) return undefined;
  return (object.spec as { template: PodTemplate }).template;
}

export function allContainers(pod: PodSpec): Container[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

/** Whether a label selector selects these labels (matchLabels and the In/NotIn/Exists operators). */
export function selects(selector: Selector, labels: Record<string, string> = {}): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return values.includes(labels[key]);
      case 'NotIn':
        return !values.includes(labels[key]);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        return false;
    }
  });
  return byLabels && byExpressions;
}
