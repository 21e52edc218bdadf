/**
 * The ops/ files are valid: Prometheus configuration and alert rules pass `promtool check` (from
 * Debian's `prometheus` package, installed by scripts/setup.sh when missing; without promtool
 * these two checks are skipped with a message), and the Grafana dashboard and provisioning parse.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ops = path.join(__dirname, '..', '..', 'ops');
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
if (!promtool) {
  console.warn('promtool not found (Debian package "prometheus"; scripts/setup.sh installs it when apt-get can): skipping promtool checks');
}
const withPromtool = promtool ? test : test.skip;

withPromtool('promtool check config ops/prometheus.yml (with its rule files)', () => {
  const out = execFileSync('promtool', ['check', 'config', path.join(ops, 'prometheus.yml')], { encoding: 'utf8' });
  expect(out).toMatch(/SUCCESS/);
});

withPromtool('promtool check rules ops/alert-rules.yml: the seeds rules are there', () => {
  const out = execFileSync('promtool', ['check', 'rules', path.join(ops, 'alert-rules.yml')], { encoding: 'utf8' });
  expect(out).toMatch(/SUCCESS: \d+ rules found/);
  const rules = readFileSync(path.join(ops, 'alert-rules.yml'), 'utf8');
  for (const name of ['ProviderHighErrorRate', 'ProviderHighLatencyP95', 'ProviderDown', 'ServiceDown', 'LowCacheHitRate', 'BudgetOver90Percent']) {
    expect(rules).toContain(`alert: ${name}`);
  }
});

test('the Grafana dashboard is valid JSON with the health, latency, error rate, budget and batching rows', () => {
  const dir = path.join(ops, 'grafana', 'dashboards');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThan(0);
  const dashboard = JSON.parse(readFileSync(path.join(dir, files[0]!), 'utf8')) as { uid: string; panels: Array<{ type: string; title: string }> };
  const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
  expect(rows).toEqual(['Health overview', 'Latency', 'Error rate', 'Budget', 'Batching']);
  expect(readFileSync(path.join(ops, 'grafana', 'provisioning', 'dashboards', 'switchyard.yaml'), 'utf8')).toMatch(/path: \/var\/lib\/grafana\/dashboards\/switchyard/);
});
