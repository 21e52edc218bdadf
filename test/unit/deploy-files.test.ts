/**
 * The deployment files, checked without a Docker engine or a cluster (neither is available here):
 * the Kubernetes manifests of deploy/k8s/ validate against the Kubernetes and Prometheus Operator
 * schemas (kubernetes-models, run by test/support/validate-k8s.mjs, and a broken manifest is
 * refused, so the validator does validate); their probes name paths the API and the worker serve;
 * every docker-compose.yml service has a healthcheck and resource limits; the Dockerfile is
 * multi-stage, installs production dependencies only in the image it ships and ends as a
 * non-root user.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import type { Pool } from 'pg';
import { parse, parseAllDocuments } from 'yaml';
import { healthRoutes } from '../../api/routes/health';
import type { WorkflowStarter } from '../../lib/temporal/workflow-starter';
import { loadConfig } from '../../lib/config/config';
import { metricsServerUrl, serveMetrics } from '../../lib/metrics-server';
import { createWorkerMetrics, workerProbes } from '../../workers/metrics';

const root = path.join(__dirname, '..', '..');
const k8sDir = path.join(root, 'deploy', 'k8s');
const validator = path.join(root, 'test', 'support', 'validate-k8s.mjs');

interface Validated {
  file: string;
  index: number;
  apiVersion?: string;
  kind?: string;
  name?: string;
  errors?: string[];
  skipped?: string;
}

function validate(files: string[]): { status: number | null; results: Validated[]; stderr: string } {
  const run = spawnSync(process.execPath, [validator, ...files], { encoding: 'utf8', cwd: root });
  return { status: run.status, results: run.stdout ? (JSON.parse(run.stdout) as Validated[]) : [], stderr: run.stderr };
}

/** A manifest as YAML gives it; only the fields the checks below read are typed. */
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  command?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; runAsNonRoot?: boolean; runAsUser?: number };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown> & {
    template?: { spec: { containers: Container[]; securityContext?: { runAsNonRoot?: boolean; runAsUser?: number } } };
    scaleTargetRef?: { apiVersion: string; kind: string; name: string };
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    ports?: Array<{ name: string; port: number; targetPort: string | number }>;
    endpoints?: Array<{ port: string; path?: string }>;
    jobLabel?: string;
  };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  resources?: string[];
}

const manifestFiles = readdirSync(k8sDir).filter((f) => f.endsWith('.yaml')).sort();
const manifests: Manifest[] = manifestFiles.flatMap((file) =>
  parseAllDocuments(readFileSync(path.join(k8sDir, file), 'utf8')).map((doc) => doc.toJS() as Manifest),
);
const find = (kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`deploy/k8s has no ${kind} ${name}`);
  return found;
};
const containerOf = (deployment: string): Container => find('Deployment', deployment).spec!.template!.spec.containers[0]!;

describe('deploy/k8s', () => {
  test('every manifest is valid against the Kubernetes and Prometheus Operator schemas', () => {
    const { status, results, stderr } = validate(manifestFiles.map((f) => path.join(k8sDir, f)));
    expect(stderr).toBe('');
    expect(results.filter((r) => r.errors)).toEqual([]);
    expect(status).toBe(0);
    const kinds = results.filter((r) => !r.skipped).map((r) => `${r.apiVersion} ${r.kind} ${r.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'apps/v1 Deployment switchyard-api',
        'apps/v1 Deployment switchyard-worker',
        'v1 Service switchyard-api',
        'autoscaling/v2 HorizontalPodAutoscaler switchyard-worker',
        'autoscaling/v2 HorizontalPodAutoscaler switchyard-api',
        'v1 Secret switchyard-secrets',
        'v1 ConfigMap switchyard-config',
        'monitoring.coreos.com/v1 ServiceMonitor switchyard',
        'batch/v1 Job switchyard-migrate',
      ]),
    );
    // Only kustomize's own file is not an API object.
    expect(results.filter((r) => r.skipped).map((r) => r.kind)).toEqual(['Kustomization']);
  });

  test('a broken manifest is refused, naming what is wrong (the validator validates)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-k8s-'));
    try {
      const broken = path.join(dir, 'broken.yaml');
      const deployment = structuredClone(find('Deployment', 'switchyard-api'));
      (deployment.spec as Record<string, unknown>).replicas = 'two';
      delete deployment.spec!.selector;
      const monitor = structuredClone(find('ServiceMonitor', 'switchyard'));
      monitor.spec!.endpoints = [{ port: 'metrics', path: 42 } as unknown as { port: string }];
      const hpa = structuredClone(find('HorizontalPodAutoscaler', 'switchyard-worker'));
      (hpa.spec as Record<string, unknown>).minReplicas = '2';
      writeFileSync(broken, [deployment, monitor, hpa, { apiVersion: 'example.com/v1', kind: 'Mystery', metadata: { name: 'm' } }].map((m) => JSON.stringify(m)).join('\n---\n'));
      const { status, results } = validate([broken]);
      expect(status).toBe(1);
      expect(results).toHaveLength(4);
      expect(results[0]!.errors!.join()).toMatch(/replicas must be integer/);
      expect(results[0]!.errors!.join()).toMatch(/required property 'selector'|required property selector/);
      expect(results[1]!.errors!.join()).toMatch(/path must be string/);
      expect(results[2]!.errors!.join()).toMatch(/minReplicas must be integer/);
      expect(results[3]!.errors).toEqual(['no schema for example.com/v1 Mystery']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('kustomization.yaml lists every manifest of the folder', () => {
    const kustomization = manifests.find((m) => m.kind === 'Kustomization')!;
    expect([...kustomization.resources!].sort()).toEqual(manifestFiles.filter((f) => f !== 'kustomization.yaml'));
  });

  test('the API and the worker: start-up, liveness and readiness probes, resources, non-root and no privilege escalation', () => {
    for (const name of ['switchyard-api', 'switchyard-worker']) {
      const deployment = find('Deployment', name);
      const pod = deployment.spec!.template!.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(pod.securityContext!.runAsUser).toBeGreaterThan(0);
      for (const container of pod.containers) {
        expect([container.startupProbe?.httpGet?.path, container.livenessProbe?.httpGet?.path, container.readinessProbe?.httpGet?.path]).toEqual(['/startupz', '/healthz', '/readyz']);
        expect(Object.keys(container.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
        expect(Object.keys(container.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
        expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      }
    }
    // Both scale on an HPA that targets them.
    for (const name of ['switchyard-api', 'switchyard-worker']) {
      expect(find('HorizontalPodAutoscaler', name).spec!.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
    }
    // Placeholders only in the Secret.
    expect(Object.values(find('Secret', 'switchyard-secrets').stringData!).every((value) => value.includes('REPLACE_ME'))).toBe(true);
  });

  test("the probes' ports are the ones the processes listen on, and their paths are served there (not 404)", async () => {
    const config = loadConfig(find('ConfigMap', 'switchyard-config').data);
    const portOf = (container: Container, probe: Probe): number => {
      const port = probe.httpGet!.port;
      return typeof port === 'number' ? port : container.ports!.find((p) => p.name === port)!.containerPort;
    };
    const api = containerOf('switchyard-api');
    const worker = containerOf('switchyard-worker');
    expect(api.command).toEqual(['node', 'dist/api/server.js']);
    expect(worker.command).toEqual(['node', 'dist/workers/main.js']);
    for (const probe of [api.startupProbe!, api.livenessProbe!, api.readinessProbe!]) expect(portOf(api, probe)).toBe(config.PORT);
    for (const probe of [worker.startupProbe!, worker.livenessProbe!, worker.readinessProbe!]) expect(portOf(worker, probe)).toBe(config.WORKER_METRICS_PORT);
    expect(config.METRICS_HOST).toBe('0.0.0.0'); // the kubelet probes the pod IP

    // Dependencies that answer nothing: each probe then says 503 (or 200 for liveness), never 404.
    const down = (): Promise<never> => Promise.reject(new Error('down'));
    const pool = { query: down } as unknown as Pool;
    const workflows = { withDeadline: (_d: number, run: () => Promise<unknown>) => run(), workflowService: { getSystemInfo: down, describeNamespace: down, describeTaskQueue: down } } as unknown as WorkflowStarter;
    const app = express().use(healthRoutes({ config, workflows, pool, checkTimeoutMs: 200 }));
    const apiServer = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => apiServer.once('listening', resolve));
    const workerServer = await serveMetrics({ registry: createWorkerMetrics().registry, port: 0, probes: workerProbes(() => undefined, pool) });
    try {
      const apiUrl = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
      for (const [container, base] of [[api, apiUrl], [worker, metricsServerUrl(workerServer)]] as const) {
        const statuses = await Promise.all(
          [container.startupProbe!, container.livenessProbe!, container.readinessProbe!].map(async (probe) => (await fetch(`${base}${probe.httpGet!.path}`)).status),
        );
        expect(statuses).toEqual([503, 200, 503]);
      }
    } finally {
      apiServer.close();
      workerServer.close();
    }
  });

  test('the ServiceMonitor scrapes the metrics Services, with the job names the alert rules use', () => {
    const monitor = find('ServiceMonitor', 'switchyard');
    const selected = manifests.filter(
      (m) => m.kind === 'Service' && Object.entries(monitor.spec!.selector!.matchLabels!).every(([key, value]) => m.metadata.labels?.[key] === value),
    );
    const jobs = selected.map((service) => service.metadata.labels![monitor.spec!.jobLabel!]).sort();
    expect(jobs).toEqual(['switchyard-api', 'switchyard-worker', 'temporal-sdk']);
    const prometheus = readFileSync(path.join(root, 'ops', 'prometheus.yml'), 'utf8');
    for (const job of jobs) expect(prometheus).toContain(`job_name: ${job}`);
    // Each selected Service offers a port an endpoint names, and no public Service exposes a metrics port.
    const endpointPorts = monitor.spec!.endpoints!.map((e) => e.port);
    for (const service of selected) expect(service.spec!.ports!.some((p) => endpointPorts.includes(p.name))).toBe(true);
    expect(find('Service', 'switchyard-api').spec!.ports!.map((p) => p.name)).toEqual(['http']);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { image?: string; build?: unknown; restart?: string; healthcheck?: { test?: unknown; disable?: boolean }; deploy?: { resources?: { limits?: Record<string, unknown> } } }>;
  };
  const services = Object.entries(compose.services);

  test('every service has CPU and memory limits', () => {
    expect(services.length).toBeGreaterThan(10);
    expect(services.filter(([, s]) => !(s.deploy?.resources?.limits?.cpus && s.deploy.resources.limits.memory)).map(([name]) => name)).toEqual([]);
  });

  test('every long-running service has a healthcheck command; a one-shot job (restart "no") disables it: its exit code is its health', () => {
    for (const [name, service] of services) {
      if (service.restart === 'no') expect([name, service.healthcheck]).toEqual([name, { disable: true }]);
      else expect([name, Array.isArray(service.healthcheck?.test)]).toEqual([name, true]);
    }
    expect(services.filter(([, s]) => s.restart !== 'no').map(([name]) => name).sort()).toEqual(
      ['alertmanager', 'alloy', 'grafana', 'loki', 'postgresql', 'prometheus', 'switchyard-api', 'switchyard-worker', 'temporal', 'temporal-ui'].sort(),
    );
  });

  test("Switchyard's services run the image the Dockerfile builds", () => {
    for (const name of ['switchyard-api', 'switchyard-worker', 'switchyard-migrate', 'alertmanager-key']) {
      expect([name, compose.services[name]!.build, compose.services[name]!.image]).toEqual([name, '.', 'switchyard:local']);
    }
  });
});

describe('Dockerfile', () => {
  const lines = readFileSync(path.join(root, 'Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: string[][] = [];
  for (const line of lines) {
    if (/^FROM\s/i.test(line)) stages.push([]);
    stages.at(-1)?.push(line);
  }
  const runtime = stages.at(-1) ?? [];

  test('multi-stage: the build stage installs everything, compiles and builds the console', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages[0]!.join('\n');
    expect(build).toMatch(/^RUN npm ci\b(?!.*--omit)/m);
    expect(build).toMatch(/npx tsc -p tsconfig\.json/);
    expect(build).toMatch(/npx vite build console/);
  });

  test('the runtime stage: production dependencies only, compiled code from the build stage, no sources or node_modules copied in', () => {
    const text = runtime.join('\n');
    expect(text).toMatch(/^RUN npm ci --omit=dev\b/m);
    expect(text).not.toMatch(/^RUN npm (ci|install)(?!.*--omit=dev)/m);
    const copies = runtime.filter((line) => line.startsWith('COPY'));
    expect(copies.some((line) => /node_modules/.test(line))).toBe(false);
    for (const line of copies.filter((l) => l.includes('--from=build'))) expect(line).toMatch(/ \/app\/dist\/\w+ /);
    expect(copies.filter((l) => !l.includes('--from=build')).map((l) => l.split(/\s+/)[1]).sort()).toEqual(['bin', 'db/migrations', 'package.json'].sort());
  });

  test('it ends as a non-root user, and the command is the API', () => {
    const users = runtime.filter((line) => /^USER\s/i.test(line));
    const last = users.at(-1)?.split(/\s+/)[1] ?? 'root';
    expect(last.split(':')[0]).not.toMatch(/^(root|0)$/);
    const lastWrite = runtime.reduce((last, line, i) => (/^(COPY|RUN)\s/.test(line) ? i : last), -1);
    expect(runtime.findIndex((l) => /^USER\s/i.test(l))).toBeGreaterThan(lastWrite);
    expect(runtime.at(-1)).toBe('CMD ["node", "dist/api/server.js"]');
  });

  test('.dockerignore keeps host builds, dependencies, secrets and git out of the build context', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.env', '.git', '.data', '.tools']));
  });
});
