import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

// The Storage SCP must be reachable where a PACS is told to send C-MOVE results and pushes: the
// production overlay's LoadBalancer Service selects the dimse-worker pods and reaches the port the
// SCP listens on (SCP_PORT in the ConfigMap), whichever replica takes the association.

const ROOT = join(__dirname, '../../..');

interface Manifest {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}
interface ServicePort {
  name: string;
  port: number;
  targetPort: number | string;
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: { containers: { ports?: { name: string; containerPort: number }[] }[] };
}

function manifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(ROOT, file), 'utf8')).map(
    (document) => document.toJSON() as Manifest,
  );
}

function configLiteral(name: string): string | undefined {
  const kustomization = parse(readFileSync(join(ROOT, 'k8s/base/kustomization.yaml'), 'utf8')) as {
    configMapGenerator: { literals: string[] }[];
  };
  return kustomization.configMapGenerator
    .flatMap((generator) => generator.literals)
    .find((literal) => literal.startsWith(`${name}=`))
    ?.split('=')[1];
}

describe('the Storage SCP in Kubernetes', () => {
  const worker = manifests('k8s/base/dimse-worker.yaml').find((manifest) => manifest.kind === 'Deployment');
  const template = worker?.spec.template as PodTemplate;
  const scpPort = Number(configLiteral('SCP_PORT'));

  it('the dimse-worker container exposes SCP_PORT as its named port "dicom"', () => {
    const ports = template.spec.containers[0].ports ?? [];
    expect(ports.find((port) => port.name === 'dicom')?.containerPort).toBe(scpPort);
  });

  it('production exposes it outside the cluster on one stable address, keeping callers’ addresses', () => {
    const overlay = parse(readFileSync(join(ROOT, 'k8s/overlays/production/kustomization.yaml'), 'utf8')) as {
      resources: string[];
    };
    const services = overlay.resources
      .filter((resource) => resource.endsWith('.yaml'))
      .flatMap((resource) => manifests(`k8s/overlays/production/${resource}`))
      .filter((manifest) => manifest.kind === 'Service');
    const dicom = services.find((service) =>
      (service.spec.ports as ServicePort[]).some((port) => port.targetPort === 'dicom'),
    );
    expect(dicom?.spec).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
    const selector = dicom?.spec.selector as Record<string, string>;
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    for (const [label, value] of Object.entries(selector))
      expect(template.metadata.labels[label]).toBe(value);
    expect((dicom?.spec.ports as ServicePort[]).find((port) => port.targetPort === 'dicom')?.port).toBe(
      scpPort,
    );
  });
});
