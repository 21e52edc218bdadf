/**
 * Alertmanager's payload onto Switchyard alerts, without a server: the version-4 schema accepts
 * what Alertmanager sends (nanosecond times, the zero `endsAt` of a firing alert) and names what
 * is wrong otherwise; severities map onto Switchyard's four with a documented default; one alert
 * becomes `alert:alertmanager:{alertname}:{fingerprint}` with its summary, provider and labels.
 */
import { alertInputFrom, DEFAULT_ALERTMANAGER_SEVERITY, severityFromLabel } from '../../api/routes/alertmanager';
import { zodFieldErrors } from '../../api/errors';
import { alertmanagerBody } from '../../api/schemas';
import { alertWorkflowId } from '../../contracts/monitoring';
import { alertmanagerPayload } from '../support/alertmanager';

test('the version-4 payload as Alertmanager sends it validates', () => {
  expect(alertmanagerBody.safeParse(alertmanagerPayload()).success).toBe(true);
});

test('a payload that is not version 4, or an alert without a name or fingerprint, is refused naming the field', () => {
  const wrongVersion = alertmanagerBody.safeParse(alertmanagerPayload({ version: '3' }));
  expect(wrongVersion.success).toBe(false);
  expect(zodFieldErrors(wrongVersion.error!)).toHaveProperty('version');

  const alert = (alertmanagerPayload().alerts as Array<Record<string, unknown>>)[0]!;
  const noFingerprint = alertmanagerBody.safeParse(alertmanagerPayload({ alerts: [{ ...alert, fingerprint: undefined }] }));
  expect(zodFieldErrors(noFingerprint.error!)).toHaveProperty(['alerts.0.fingerprint']);
  const noName = alertmanagerBody.safeParse(alertmanagerPayload({ alerts: [{ ...alert, labels: { severity: 'high' } }] }));
  expect(zodFieldErrors(noName.error!)).toHaveProperty(['alerts.0.labels.alertname']);
  expect(alertmanagerBody.safeParse(alertmanagerPayload({ alerts: [] })).success).toBe(false);
});

test('severity labels map onto the four severities; missing or unknown → the default (high)', () => {
  expect(DEFAULT_ALERTMANAGER_SEVERITY).toBe('high');
  expect(['critical', 'Page', 'emergency'].map(severityFromLabel)).toEqual(['critical', 'critical', 'critical']);
  expect(['high', 'error', ' ERROR '].map(severityFromLabel)).toEqual(['high', 'high', 'high']);
  expect(['medium', 'warning', 'Warn'].map(severityFromLabel)).toEqual(['medium', 'medium', 'medium']);
  expect(['low', 'info', 'none'].map(severityFromLabel)).toEqual(['low', 'low', 'low']);
  expect([undefined, '', 'bogus', 'constructor', '__proto__'].map(severityFromLabel)).toEqual(Array(5).fill('high'));
});

test('one Alertmanager alert is the Switchyard alert alert:alertmanager:{alertname}:{fingerprint}', () => {
  const payload = alertmanagerBody.parse(alertmanagerPayload());
  const input = alertInputFrom(payload.alerts[0]!, payload, 'api-key k1 (tenant default)');
  expect(alertWorkflowId(input.rule, input.fingerprint)).toBe('alert:alertmanager:ProviderDown:4c1a3a4d2b7f9e01');
  expect(input).toMatchObject({
    severity: 'critical',
    provider: 'stripe',
    summary: 'stripe is down (health probe failing for 1 minute)',
    details: { source: 'alertmanager', receiver: 'switchyard', raisedBy: 'api-key k1 (tenant default)', labels: { job: 'switchyard-api' } },
  });

  // No summary: the description, else the alert's name; no provider label: none.
  const bare = alertmanagerBody.parse(
    alertmanagerPayload({ alerts: [{ ...(payload.alerts[0] as object), labels: { alertname: 'ServiceDown' }, annotations: {} }] }),
  );
  const input2 = alertInputFrom(bare.alerts[0]!, bare);
  expect(input2).toMatchObject({ rule: 'alertmanager:ServiceDown', severity: 'high', summary: 'ServiceDown' });
  expect(input2).not.toHaveProperty('provider');
});
