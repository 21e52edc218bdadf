// Validates Kubernetes manifests against the API schemas (kubernetes-models) and the Prometheus
// Operator's (@kubernetes-models/prometheus-operator): `node test/support/validate-k8s.mjs <file.yaml>…`
// prints one JSON line: every document with its kind, name and, when invalid, the schema errors.
// ESM because both packages are ESM-only; test/unit/deploy-files.test.ts runs it (jest here is CJS).
// Exit 0 when every document is valid, 1 otherwise.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

/** apiVersion → the package folder of its models. */
const groups = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'policy/v1': 'kubernetes-models/policy/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};
/** Not an API object: kustomize's own file, which lists the others. */
const notApiObjects = new Set(['kustomize.config.k8s.io/v1beta1/Kustomization']);

const results = [];
for (const file of process.argv.slice(2)) {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const [index, doc] of docs.entries()) {
    const where = { file, index };
    if (doc.errors.length > 0) {
      results.push({ ...where, errors: doc.errors.map((e) => e.message) });
      continue;
    }
    const manifest = doc.toJS();
    if (manifest === null) continue;
    const { apiVersion, kind } = manifest;
    const name = manifest.metadata?.name;
    if (notApiObjects.has(`${apiVersion}/${kind}`)) {
      results.push({ ...where, apiVersion, kind, name, skipped: 'not an API object' });
      continue;
    }
    const group = groups[apiVersion];
    let Model;
    try {
      if (!group || !/^[A-Za-z]+$/.test(String(kind))) throw new Error('unknown');
      Model = (await import(`${group}/${kind}`))[kind];
      if (typeof Model !== 'function') throw new Error('unknown');
    } catch {
      results.push({ ...where, apiVersion, kind, name, errors: [`no schema for ${apiVersion} ${kind}`] });
      continue;
    }
    try {
      new Model(manifest).validate();
      results.push({ ...where, apiVersion, kind, name });
    } catch (err) {
      results.push({ ...where, apiVersion, kind, name, errors: [err instanceof Error ? err.message : String(err)] });
    }
  }
}
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exitCode = results.some((r) => r.errors) ? 1 : 0;
