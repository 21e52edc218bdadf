/**
 * The worker's Prometheus metrics (prom-client): default process metrics and activity duration by
 * activity and outcome, recorded by an activity interceptor so no activity has to remember to.
 */
import http from 'node:http';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface WorkerMetrics {
  registry: Registry;
  activityDuration: Histogram<'activity' | 'outcome'>;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    activityDuration: new Histogram({
      name: 'activity_duration_seconds',
      help: 'Activity attempt duration by activity type and outcome',
      labelNames: ['activity', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

export function activityMetricsInterceptor(metrics: WorkerMetrics): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const end = metrics.activityDuration.startTimer({ activity: ctx.info.activityType });
        try {
          const result = await next(input);
          end({ outcome: 'success' });
          return result;
        } catch (err) {
          end({ outcome: 'failure' });
          throw err;
        }
      },
    },
  });
}

/** Serves GET /metrics on its own port. */
export function serveMetrics(registry: Registry, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'Content-Type': registry.contentType }).end(body);
        })
        .catch(() => res.writeHead(500).end());
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not_found"}');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}
