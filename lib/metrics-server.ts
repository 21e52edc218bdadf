/**
 * A process's Prometheus port: GET /metrics from a prom-client registry, and the process's own
 * /healthz, /readyz and /startupz when it has them (the worker's, for its orchestrator). A port of its own,
 * bound to METRICS_HOST (127.0.0.1 by default), because metrics name tenants and providers: the
 * public API port never serves them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A probe's answer: 200 when ok, else 503, with a JSON body. */
export interface ProbeAnswer {
  ok: boolean;
  body: Record<string, unknown>;
}

export interface MetricsServerOptions {
  registry: Registry;
  port: number;
  /** Interface to bind; default 127.0.0.1 (only this host scrapes). */
  host?: string;
  /** Answers of GET /healthz, GET /readyz and GET /startupz; absent: 404. */
  probes?: Partial<Record<'healthz' | 'readyz' | 'startupz', () => ProbeAnswer | Promise<ProbeAnswer>>>;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

export function serveMetrics({ registry, port, host = '127.0.0.1', probes = {} }: MetricsServerOptions): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method_not_allowed' });
    if (path === '/metrics') {
      registry.metrics().then(
        (body) => void res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
        () => sendJson(res, 500, { error: 'metrics_failed' }),
      );
      return;
    }
    const probe = path === '/healthz' ? probes.healthz : path === '/readyz' ? probes.readyz : path === '/startupz' ? probes.startupz : undefined;
    if (!probe) return sendJson(res, 404, { error: 'not_found' });
    Promise.resolve()
      .then(probe)
      .then(
        (answer) => sendJson(res, answer.ok ? 200 : 503, answer.body),
        (err: unknown) => sendJson(res, 503, { status: 'not_ready', error: err instanceof Error ? err.message : String(err) }),
      );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** `http://host:port` of a listening metrics server (IPv6 hosts bracketed). */
export function metricsServerUrl(server: http.Server): string {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}
