/** Alertmanager's webhook payload (version 4) as it sends it, for the tests of its receiver. */

/** One group with one firing ProviderDown alert for stripe; `overrides` replace top-level fields. */
export function alertmanagerPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '4',
    groupKey: '{}:{alertname="ProviderDown", provider="stripe"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'switchyard',
    groupLabels: { alertname: 'ProviderDown', provider: 'stripe' },
    commonLabels: { alertname: 'ProviderDown', provider: 'stripe', severity: 'critical' },
    commonAnnotations: { summary: 'stripe is down (health probe failing for 1 minute)' },
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'ProviderDown', provider: 'stripe', severity: 'critical', job: 'switchyard-api' },
        annotations: { summary: 'stripe is down (health probe failing for 1 minute)' },
        startsAt: '2025-11-25T13:07:00.123456789Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph?g0.expr=integration_up+%3D%3D+0',
        fingerprint: '4c1a3a4d2b7f9e01',
      },
    ],
    ...overrides,
  };
}

/** One alert of a payload: firing unless said otherwise (then `endsAt` is when it ended). */
export function alertmanagerAlert(fields: {
  alertname: string;
  fingerprint: string;
  status?: 'firing' | 'resolved';
  labels?: Record<string, string>;
  summary?: string;
}): Record<string, unknown> {
  const status = fields.status ?? 'firing';
  return {
    status,
    labels: { alertname: fields.alertname, ...fields.labels },
    annotations: fields.summary === undefined ? {} : { summary: fields.summary },
    startsAt: '2025-11-25T13:07:00.123456789Z',
    endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : new Date().toISOString(),
    generatorURL: `http://prometheus:9090/graph?g0.expr=${encodeURIComponent(fields.alertname)}`,
    fingerprint: fields.fingerprint,
  };
}
