/**
 * Configuration is validated at start with errors that name the variable, and its documentation
 * tables are the ones generated from the schemas.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, configVariables, loadConfig } from '../../lib/config/config';
import { loadMonitoringConfig, monitoringVariables } from '../../lib/config/monitoring-config';
import { projectRoot } from '../../lib/config/paths';
import { configurationTable, monitoringTable, tableRows, withTable } from '../../scripts/config-tables';

test('defaults match docs/CONFIGURATION.md', () => {
  const config = loadConfig({});
  expect(config).toMatchObject({
    TEMPORAL_ADDRESS: '127.0.0.1:7233',
    TEMPORAL_NAMESPACE: 'default',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/switchyard',
    PORT: 3000,
    WORKER_METRICS_PORT: 9464,
    TEMPORAL_TASK_QUEUE: 'switchyard',
    PROVIDER_TASK_QUEUE_PREFIX: 'provider-',
  });
});

test('a delivery retry schedule override becomes Temporal durations', () => {
  expect(loadConfig({ DELIVERY_RETRY_SCHEDULE: '500ms, 2s,1m' }).DELIVERY_RETRY_SCHEDULE).toEqual(['500 ms', '2 s', '1 m']);
  expect(() => loadConfig({ DELIVERY_RETRY_SCHEDULE: 'soon' })).toThrow(/DELIVERY_RETRY_SCHEDULE/);
});

test('bad values fail with the variable named', () => {
  expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
  expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
  expect(() => loadConfig({ DEFAULT_TENANT: 'Has Spaces' })).toThrow(/DEFAULT_TENANT/);
  expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
  // A body Temporal could not carry in a workflow start would be accepted and never processed.
  expect(() => loadConfig({ WEBHOOK_BODY_LIMIT_BYTES: String(4 * 1024 * 1024) })).toThrow(/WEBHOOK_BODY_LIMIT_BYTES.*1 MiB.*Temporal/s);
  expect(loadConfig({ WEBHOOK_BODY_LIMIT_BYTES: String(1024 * 1024) }).WEBHOOK_BODY_LIMIT_BYTES).toBe(1024 * 1024);
});

describe('sources: CONFIG_FILE, environment, <NAME>_FILE', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-config-'));
  const file = (name: string, text: string) => {
    const at = path.join(dir, name);
    writeFileSync(at, text);
    return at;
  };

  test('the environment wins over CONFIG_FILE; <NAME>_FILE reads a secret without its final newline', () => {
    const configFile = file('config.json', JSON.stringify({ PORT: 4000, LOG_LEVEL: 'debug', ALERT_SMS_TO: '+15551230000' }));
    const secretFile = file('jwt', 'a-shared-secret-of-at-least-32-characters\n');
    const config = loadConfig({ CONFIG_FILE: configFile, LOG_LEVEL: 'warn', AUTH_JWT_SECRET_FILE: secretFile, AUTH_JWT_ISSUER: 'i', AUTH_JWT_AUDIENCE: 'a' });
    expect(config).toMatchObject({ PORT: 4000, LOG_LEVEL: 'warn', AUTH_JWT_SECRET: 'a-shared-secret-of-at-least-32-characters' });
    expect(loadMonitoringConfig({ CONFIG_FILE: configFile }).ALERT_SMS_TO).toBe('+15551230000');
  });

  test('problems name the key: unknown file keys, unreadable files, both forms set, JWT without issuer', () => {
    expect(() => loadConfig({ CONFIG_FILE: file('typo.json', '{"PROT": 1}') })).toThrow(/CONFIG_FILE: unknown key PROT/);
    expect(() => loadConfig({ CONFIG_FILE: file('bad.json', '[1]') })).toThrow(/CONFIG_FILE: .*JSON object/);
    expect(() => loadConfig({ AUTH_JWT_SECRET_FILE: path.join(dir, 'missing') })).toThrow(/AUTH_JWT_SECRET_FILE: cannot read .*ENOENT/);
    expect(() => loadConfig({ PORT: '1', PORT_FILE: file('port', '2') })).toThrow(/PORT_FILE: PORT is set as well/);
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32) })).toThrow(/AUTH_JWT_ISSUER: required[\s\S]*AUTH_JWT_AUDIENCE: required/);
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'short' })).toThrow(/AUTH_JWT_SECRET: at least 32/);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://ok.example, nope' })).toThrow(/CORS_ORIGINS/);
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example,https://b.example' }).CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });

  test('.env.example lists every variable', () => {
    const example = readFileSync(path.join(projectRoot, '.env.example'), 'utf8');
    const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    expect([...configVariables, ...monitoringVariables].filter((v) => !listed.has(v))).toEqual([]);
  });

  test('the documentation tables name every variable: docs/CONFIGURATION.md, and docs/OPERATIONS.md for monitoring', () => {
    const inTable = (spec: typeof configurationTable): Set<string> =>
      new Set(tableRows(spec).flatMap((row) => [...row.names.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)));
    expect(configVariables.filter((v) => !inTable(configurationTable).has(v))).toEqual([]);
    expect(monitoringVariables.filter((v) => !inTable(monitoringTable).has(v))).toEqual([]);
  });
});

test.each([
  ['docs/CONFIGURATION.md', configurationTable],
  ['docs/OPERATIONS.md', monitoringTable],
])('%s: its variable table = the one generated from the schema (scripts/config-tables.ts writes it)', (_file, spec) => {
  const doc = readFileSync(spec.doc, 'utf8');
  expect(withTable(spec, doc)).toBe(doc);
});
