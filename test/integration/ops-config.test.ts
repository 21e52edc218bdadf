/**
 * The ops/ files are valid: Prometheus configuration and alert rules pass `promtool check` (from
 * Debian's `prometheus` package) and the rules' unit tests (`promtool test rules`), the Alertmanager configuration passes `amtool check-config` and
 * routes every alert rule to Switchyard's alert endpoint (Debian's `prometheus-alertmanager`; both
 * installed by scripts/setup.sh when missing, and without them these checks are skipped with a
 * message), and the Grafana dashboard and provisioning parse. The logs stack (Loki, Grafana Alloy)
 * and docker-compose.yml have no checker here (no Docker engine, no Debian package): their
 * structure is asserted on the text.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serviceRoutes } from '../../api/access';
import { loadConfig } from '../../lib/config/config';

const root = path.join(__dirname, '..', '..');
const ops = path.join(root, 'ops');
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
if (!promtool) {
  console.warn('promtool not found (Debian package "prometheus"; scripts/setup.sh installs it when apt-get can): skipping promtool checks');
}
const withPromtool = promtool ? test : test.skip;
const amtool = spawnSync('amtool', ['--version'], { encoding: 'utf8' }).status === 0;
if (!amtool) {
  console.warn('amtool not found (Debian package "prometheus-alertmanager"; scripts/setup.sh installs it when apt-get can): skipping amtool checks');
}
const withAmtool = amtool ? test : test.skip;

withPromtool('promtool check config ops/prometheus.yml (with its rule files)', () => {
  const out = execFileSync('promtool', ['check', 'config', path.join(ops, 'prometheus.yml')], { encoding: 'utf8' });
  expect(out).toMatch(/SUCCESS/);
  // Alerts go to the compose Alertmanager.
  expect(readFileSync(path.join(ops, 'prometheus.yml'), 'utf8')).toMatch(/alerting:\n\s+alertmanagers:\n\s+- static_configs:\n\s+- targets: \["alertmanager:9093"\]/);
});

withPromtool('promtool check rules ops/alert-rules.yml: the seeds rules are there', () => {
  const out = execFileSync('promtool', ['check', 'rules', path.join(ops, 'alert-rules.yml')], { encoding: 'utf8' });
  expect(out).toMatch(/SUCCESS: \d+ rules found/);
  const rules = readFileSync(path.join(ops, 'alert-rules.yml'), 'utf8');
  for (const name of ['ProviderHighErrorRate', 'ProviderHighLatencyP95', 'ProviderDown', 'ServiceDown', 'LowCacheHitRate', 'BudgetOver90Percent']) {
    expect(rules).toContain(`alert: ${name}`);
  }
});

withPromtool('promtool test rules ops/alert-rules.test.yml: every alert fires on a failing series and stays silent on a healthy one', () => {
  const out = execFileSync('promtool', ['test', 'rules', path.join(ops, 'alert-rules.test.yml')], { encoding: 'utf8' });
  expect(out).toMatch(/SUCCESS/);
  // Each alert rule has at least one case where it fires and one where it does not.
  const tests = readFileSync(path.join(ops, 'alert-rules.test.yml'), 'utf8');
  const cases = tests.split(/^\s+- alertname: /m).slice(1).map((block) => ({
    name: block.split('\n')[0]!.trim(),
    fires: !/exp_alerts: \[\]/.test(block.split(/^\s+(?:- interval|- alertname):/m)[0]!),
  }));
  for (const { name } of alertRules()) {
    expect([name, cases.some((c) => c.name === name && c.fires), cases.some((c) => c.name === name && !c.fires)]).toEqual([name, true, true]);
  }
});

/** Every alert rule's name and severity label, read from ops/alert-rules.yml. */
function alertRules(): Array<{ name: string; severity: string }> {
  const text = readFileSync(path.join(ops, 'alert-rules.yml'), 'utf8');
  return text.split(/^\s+- alert: /m).slice(1).map((block) => ({ name: block.split('\n')[0]!.trim(), severity: /severity: (\w+)/.exec(block)![1]! }));
}

withAmtool("amtool check-config ops/alertmanager.yml: one receiver, Switchyard's alert endpoint with a Bearer credentials file", () => {
  const file = path.join(ops, 'alertmanager.yml');
  const out = execFileSync('amtool', ['check-config', file], { encoding: 'utf8' });
  expect(out).toMatch(/SUCCESS/);
  expect(out).toMatch(/- 1 receivers/);
  const config = readFileSync(file, 'utf8');
  // The endpoint is a declared route (api/routes/alertmanager.ts), on the compose API service.
  expect(serviceRoutes().some(({ method, path }) => method === 'POST' && path === '/alerts/alertmanager')).toBe(true);
  expect(config).toMatch(/- url: http:\/\/switchyard-api:3000\/alerts\/alertmanager\n\s+send_resolved: true/);
  expect(config).toMatch(/authorization:\n\s+type: Bearer\n\s+credentials_file: \/etc\/alertmanager\/credentials\/switchyard-api-key/);
  for (const key of ['group_by', 'group_wait', 'group_interval', 'repeat_interval']) expect(config).toMatch(new RegExp(`^  ${key}: `, 'm'));

  // amtool does check: a route to a receiver that does not exist is refused.
  const broken = path.join(mkdtempSync(path.join(tmpdir(), 'switchyard-am-')), 'alertmanager.yml');
  writeFileSync(broken, config.replace('receiver: switchyard', 'receiver: nowhere'));
  expect(spawnSync('amtool', ['check-config', broken], { encoding: 'utf8' }).status).not.toBe(0);
});

withAmtool('amtool config routes test: every alert rule of ops/alert-rules.yml reaches the switchyard receiver', () => {
  const rules = alertRules();
  expect(rules.length).toBeGreaterThanOrEqual(8);
  for (const { name, severity } of rules) {
    const out = execFileSync(
      'amtool',
      ['config', 'routes', 'test', `--config.file=${path.join(ops, 'alertmanager.yml')}`, `alertname=${name}`, `severity=${severity}`, 'provider=stripe'],
      // stderr: amtool warns that --config.file overrides its default Alertmanager URL.
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect([name, out.trim()]).toEqual([name, 'switchyard']);
  }
});

test('the Grafana dashboard is valid JSON with the health, latency, error rate, budget, batching, Temporal, API, activities, deliveries and logs rows', () => {
  const dir = path.join(ops, 'grafana', 'dashboards');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThan(0);
  const dashboard = JSON.parse(readFileSync(path.join(dir, files[0]!), 'utf8')) as {
    uid: string;
    panels: Array<{ type: string; title: string; datasource?: { uid: string }; targets?: Array<{ expr: string }>; links?: Array<{ url: string }> }>;
    templating: { list: Array<{ name: string; type: string }> };
  };
  const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
  expect(rows).toEqual(['Health overview', 'Latency', 'Error rate', 'Budget', 'Batching', 'Temporal', 'API', 'Activities', 'Webhooks and deliveries', 'Logs']);
  const titles = dashboard.panels.map((p) => p.title);
  for (const panel of ['Task-queue backlog (server)', 'Schedule-to-start p95 (SDK)', 'API request p95 by route', 'API 5xx', 'Activity duration p95', 'Delivery attempts by outcome', 'Open deliveries', 'Month-end cost projection']) {
    expect(titles).toContain(panel);
  }
  expect(new Set(dashboard.panels.map((p) => (p as { id?: number }).id)).size).toBe(dashboard.panels.length);
  expect(readFileSync(path.join(ops, 'grafana', 'provisioning', 'dashboards', 'switchyard.yaml'), 'utf8')).toMatch(/path: \/var\/lib\/grafana\/dashboards\/switchyard/);

  // The logs panel: Loki, the API's and workers' lines, filtered by the workflow id box, linked to the Temporal Web UI.
  const logs = dashboard.panels.find((p) => p.type === 'logs')!;
  expect(logs.datasource?.uid).toBe('loki');
  expect(logs.targets?.[0]?.expr).toBe('{service=~"switchyard-api|switchyard-worker"} | workflowId=~`${workflow_id:regex}.*`');
  expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'workflow_id', type: 'textbox' }));
  expect(logs.links?.[0]?.url).toMatch(/\/namespaces\/default\/workflows\/\$\{workflow_id\}$/);
});

test("the Loki data source links a line's workflowId to the Temporal Web UI and to the workflow's logs", () => {
  const source = readFileSync(path.join(ops, 'grafana', 'provisioning', 'datasources', 'loki.yaml'), 'utf8');
  expect(source).toMatch(/type: loki\n\s+uid: loki\n\s+access: proxy\n\s+url: http:\/\/loki:3100/);
  // Derived fields from the workflowId structured metadata; `$$` survives Grafana's environment expansion.
  expect(source).toMatch(/matcherType: label\n\s+matcherRegex: workflowId\n\s+url: "\$\{TEMPORAL_UI_URL\}\/namespaces\/default\/workflows\/\$\$\{__value\.raw\}"/);
  expect(source).toMatch(/datasourceUid: loki\n\s+url: '\{service=~"switchyard-\.\+"\} \| workflowId="\$\$\{__value\.raw\}"'/);
});

test('Loki keeps structured metadata; Alloy ships the JSON logs with workflowId and runId as structured metadata', () => {
  const loki = readFileSync(path.join(ops, 'loki', 'loki.yaml'), 'utf8');
  expect(loki).toMatch(/store: tsdb\n\s+object_store: filesystem\n\s+schema: v13/);
  expect(loki).toMatch(/allow_structured_metadata: true/);
  expect(loki).toMatch(/http_listen_port: 3100/);

  const alloy = readFileSync(path.join(ops, 'alloy', 'config.alloy'), 'utf8');
  const code = alloy.replace(/\/\/.*$/gm, '').replace(/`[^`]*`/g, '""').replace(/"(?:[^"\\]|\\.)*"/g, '""');
  expect(code.split('{').length).toBe(code.split('}').length);
  for (const component of ['discovery.docker', 'discovery.relabel', 'loki.source.docker', 'loki.process', 'loki.write']) expect(alloy).toContain(`\n${component} "`);
  // The compose project and service names it keeps are docker-compose.yml's.
  expect(alloy).toContain('"com.docker.compose.project=switchyard"');
  expect(alloy).toContain('regex         = "switchyard-(api|worker)"');
  // pino's fields (lib/logger.ts; workflowId/runId from api/app.ts and the SDK's workflow and activity loggers).
  const block = (stage: string) => new RegExp(`${stage.replace('.', '\\.')} \\{([\\s\\S]*?)\\n  \\}`).exec(alloy)?.[1] ?? '';
  for (const field of ['level', 'time', 'workflowId', 'runId']) expect(block('stage.json')).toMatch(new RegExp(`\\b${field}\\s+= "${field}"`));
  for (const field of ['workflowId', 'runId']) expect(block('stage.structured_metadata')).toMatch(new RegExp(`\\b${field}\\s+= "${field}"`));
  expect(block('stage.labels')).not.toMatch(/workflowId|runId/);
  expect(alloy).toContain('url = "http://loki:3100/loki/api/v1/push"');
});

test('docker-compose.yml runs Alertmanager, Loki and Alloy with the ops files, which all exist', () => {
  const compose = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
  expect(compose).toMatch(/^name: switchyard$/m);
  for (const service of ['switchyard-api', 'switchyard-worker', 'prometheus', 'alertmanager-key', 'alertmanager', 'loki', 'alloy', 'grafana']) {
    expect([service, new RegExp(`^  ${service}:$`, 'm').test(compose)]).toEqual([service, true]);
  }
  const mounted = [...compose.matchAll(/- \.\/(ops\/[^:\s]+):/g)].map((m) => m[1]!);
  expect(mounted).toEqual(expect.arrayContaining(['ops/alertmanager.yml', 'ops/loki/loki.yaml', 'ops/alloy/config.alloy', 'ops/grafana/provisioning/datasources/loki.yaml']));
  expect(mounted.filter((file) => !existsSync(path.join(root, file)))).toEqual([]);
  // Alertmanager reads the key the one-shot service writes, where ops/alertmanager.yml looks for it.
  expect(compose).toContain('- alertmanager-credentials:/etc/alertmanager/credentials:ro');
  expect(compose).toContain('file=/credentials/switchyard-api-key');
  expect(compose).toMatch(/--role service --name alertmanager/);
  expect(compose).toContain('/var/run/docker.sock:/var/run/docker.sock:ro');
});

test('metrics and readiness ports: Prometheus scrapes the API on API_METRICS_PORT, not its public port; compose checks /readyz of the API and the worker', () => {
  const defaults = loadConfig({});
  const prometheus = readFileSync(path.join(ops, 'prometheus.yml'), 'utf8');
  expect(prometheus).toMatch(new RegExp(`job_name: switchyard-api\\n\\s+metrics_path: /metrics\\n\\s+static_configs:\\n\\s+- targets: \\["switchyard-api:${defaults.API_METRICS_PORT}"\\]`));
  expect(prometheus).not.toContain(`switchyard-api:${defaults.PORT}`);
  expect(prometheus).toMatch(new RegExp(`names: \\["switchyard-worker"\\]\\n\\s+type: A\\n\\s+port: ${defaults.WORKER_METRICS_PORT}`));

  const compose = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
  const service = (name: string) => new RegExp(`^  ${name}:\\n([\\s\\S]*?)(?=^  [a-z-]+:$)`, 'm').exec(compose)?.[1] ?? '';
  expect(compose).toContain(`API_METRICS_PORT: "${defaults.API_METRICS_PORT}"`);
  expect(compose).toContain(`WORKER_METRICS_PORT: "${defaults.WORKER_METRICS_PORT}"`);
  expect(compose).toMatch(/^ {2}METRICS_HOST: 0\.0\.0\.0$/m); // Prometheus scrapes across the compose network
  expect(service('switchyard-api')).toMatch(/healthcheck:\n\s+#[^\n]*\n(\s+#[^\n]*\n)*\s+test: \[.*http:\/\/127\.0\.0\.1:3000\/readyz/);
  expect(service('switchyard-worker')).toMatch(new RegExp(`healthcheck:\\n\\s+#[^\\n]*\\n\\s+test: \\[.*http://127\\.0\\.0\\.1:${defaults.WORKER_METRICS_PORT}/readyz`));
  // Metrics ports are never published on the host.
  for (const port of [defaults.API_METRICS_PORT, defaults.WORKER_METRICS_PORT, defaults.TEMPORAL_SDK_METRICS_PORT]) expect(compose).not.toMatch(new RegExp(`- "\\d+:${port}"`));
});
