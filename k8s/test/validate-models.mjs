// Validates Kubernetes objects against the schemas of kubernetes-models and its KEDA, Prometheus
// Operator and cert-manager packages. A separate ES module because those packages are ES modules
// only, which jest's CommonJS runtime cannot load; schemas.ts runs it with node.
//   stdin: a JSON array of objects; stdout: a JSON array of "Kind/name: problem" strings.

/** API groups outside kubernetes-models, by the package that models them. */
const PACKAGES = {
  'keda.sh': '@kubernetes-models/keda',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'cert-manager.io': '@kubernetes-models/cert-manager',
};

async function modelOf({ apiVersion, kind }) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const module = PACKAGES[group]
    ? `${PACKAGES[group]}/${group}/${version}`
    : `kubernetes-models/${group ? `${group}/` : ''}${version}`;
  const models = await import(module).catch(() => ({}));
  const Model = models[kind];
  // The packages also export the types inside objects (e.g. ServiceMonitorSpec): only a class
  // that is this apiVersion and kind will do.
  return Model?.apiVersion === apiVersion && Model?.kind === kind ? Model : undefined;
}

/**
 * kustomize folds long base64 values of a Secret's data over lines; the API server's decoder (Go's
 * encoding/base64) skips line breaks, the schema's format check does not.
 */
function asTheApiServerReads(object) {
  if (object.kind !== 'Secret' || !object.data) return object;
  const data = Object.fromEntries(
    Object.entries(object.data).map(([key, value]) => [key, value.replace(/[\r\n]/g, '')]),
  );
  return { ...object, data };
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const problems = [];
for (const object of JSON.parse(input)) {
  const name = `${object.kind}/${object.metadata?.name}`;
  const Model = await modelOf(object);
  if (!Model) {
    problems.push(`${name}: no schema for ${object.apiVersion} ${object.kind}`);
    continue;
  }
  try {
    new Model(asTheApiServerReads(object)).validate();
  } catch (error) {
    problems.push(`${name}: ${error.message}`);
  }
}
process.stdout.write(JSON.stringify(problems));
