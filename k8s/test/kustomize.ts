import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from './objects';

export const ROOT = join(__dirname, '../..');
/** Put there by scripts/install-kubectl.sh: kubectl v1.33 with kustomize v5.6. */
export const KUBECTL = join(ROOT, '.cache/tools/kubectl');

/** What a hospital would apply: an overlay, possibly with components on top. */
export interface Render {
  name: string;
  /** An overlay directory under the repository root. */
  overlay: string;
  /** Component directories under the repository root, composed in a kustomization of their own. */
  components?: string[];
  /** The dev overlay alone may carry a Secret with values. */
  dev?: boolean;
}

/** Every overlay and combination the repository ships or documents (k8s/README.md). */
export const RENDERS: Render[] = [
  { name: 'dev', overlay: 'k8s/overlays/dev', dev: true },
  { name: 'production', overlay: 'k8s/overlays/production' },
  {
    name: 'production + keda + monitoring + ingress',
    overlay: 'k8s/overlays/production',
    components: ['k8s/components/keda', 'k8s/components/monitoring', 'k8s/components/ingress'],
  },
  {
    name: 'production + hpa + monitoring',
    overlay: 'k8s/overlays/production',
    components: ['k8s/components/hpa', 'k8s/components/monitoring'],
  },
  { name: 'examples/hospital', overlay: 'k8s/examples/hospital' },
];

/** `kubectl kustomize` of the render, as objects. */
export function kustomize(render: Render): K8sObject[] {
  if (!existsSync(KUBECTL)) {
    throw new Error(`${KUBECTL} is missing: run npm run k8s:tools (scripts/install-kubectl.sh)`);
  }
  if (!render.components) return build(join(ROOT, render.overlay));
  // kustomize refuses absolute paths to other kustomizations, not relative ones leaving the root.
  const dir = mkdtempSync(join(tmpdir(), 'pacslink-k8s-'));
  try {
    const path = (target: string): string => relative(dir, join(ROOT, target));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'namespace: pacslink',
        `resources: [${path(render.overlay)}]`,
        `components: [${render.components.map(path).join(', ')}]`,
        '',
      ].join('\n'),
    );
    return build(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function build(dir: string): K8sObject[] {
  const yaml = execFileSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 ** 2 });
  return parseAllDocuments(yaml).map((document) => document.toJSON() as K8sObject);
}
