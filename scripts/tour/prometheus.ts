/**
 * A throw-away Prometheus for the screenshot tour: a scrape configuration generated for the
 * processes of one machine (the same job names as ops/prometheus.yml, so ops/alert-rules.yml's
 * recording rules apply), a scrape every 2 s, storage in a temporary directory; and the HTTP API's
 * range queries the dashboard's panels are drawn from.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../lib/config/paths';

export interface ScrapeTargets {
  'switchyard-api': string;
  'switchyard-worker': string;
  'temporal-sdk'?: string;
  'temporal-server'?: string;
}

export interface RunningPrometheus {
  url: string;
  /** [unix seconds, value] points of each series `expr` gives from `start` to `end`. */
  queryRange(expr: string, start: number, end: number, stepSeconds: number): Promise<Array<{ labels: Record<string, string>; points: Array<[number, number]> }>>;
  stop(): Promise<void>;
}

/** The generated configuration: every target as a static one, the repository's rule file. */
export function scrapeConfig(targets: ScrapeTargets, intervalSeconds = 2): string {
  const jobs = Object.entries(targets)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([job, target]) => `  - job_name: ${job}\n    metrics_path: /metrics\n    static_configs:\n      - targets: ["${target}"]\n`);
  return [
    'global:',
    `  scrape_interval: ${intervalSeconds}s`,
    `  evaluation_interval: ${intervalSeconds}s`,
    'rule_files:',
    `  - ${JSON.stringify(path.join(projectRoot, 'ops', 'alert-rules.yml'))}`,
    'scrape_configs:',
    ...jobs,
  ].join('\n');
}

export async function startPrometheus(binary: string, port: number, targets: ScrapeTargets): Promise<RunningPrometheus> {
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-tour-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, scrapeConfig(targets));
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(binary, [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited at start (code ${child.exitCode}): ${stderr.trim()}`);
    }
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not answer at ${url} within 30 s: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    url,
    async queryRange(expr, start, end, stepSeconds) {
      const query = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(stepSeconds) });
      const res = await fetch(`${url}/api/v1/query_range?${query.toString()}`);
      const answer = (await res.json()) as {
        status: string;
        error?: string;
        data?: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
      };
      if (answer.status !== 'success' || !answer.data) throw new Error(`query_range ${expr}: ${answer.error ?? res.status}`);
      return answer.data.result.map((r) => ({ labels: r.metric, points: r.values.map(([t, v]): [number, number] => [t, Number(v)]).filter(([, v]) => Number.isFinite(v)) }));
    },
    stop,
  };
}
