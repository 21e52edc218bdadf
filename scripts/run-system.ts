/**
 * README command 1 (after scripts/setup.sh): the whole system on one machine. Uses the Temporal
 * server at TEMPORAL_ADDRESS when one answers, otherwise starts the pinned dev server with a
 * persistent SQLite file in .data/; then the worker and the API as child processes. Ctrl-C or
 * SIGTERM stops the API, then the worker, then the dev server (if it started one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../lib/config/config';
import { ensureLocalKeyringFile } from '../lib/security/keyring';
import { startDevServer, type DevServer } from '../lib/temporal/dev-server';
import { dataDir, projectRoot } from '../lib/config/paths';
import { isTemporalReachable } from '../lib/temporal/connection';
import { loadRegistry } from '../lib/config/registry';
import { useFakesForUnconfiguredProviders } from './fakes-for-unconfigured';
import { prepareNamespace } from './prepare';
import { DRAIN_NICE, renice } from '../lib/process-priority';

const say = (line: string): void => console.log(`[switchyard] ${line}`);

function startNode(name: string, entry: string): ChildProcess {
  const child = spawn(process.execPath, [path.join(projectRoot, 'dist', entry)], { stdio: 'inherit', env: process.env });
  child.on('exit', (code, signal) => say(`${name} exited (${signal ?? `code ${code}`})`));
  return child;
}

function stopChild(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * On the embedded defaults the system still encrypts: a keyring not configured anywhere (variable,
 * `_FILE`, CONFIG_FILE) is read from .data/keys/, created there (mode 0600) on the first start.
 */
function useLocalKeyrings(): void {
  const configured = loadConfig();
  for (const [name, keyId] of [['PAYLOAD_ENCRYPTION_KEYS', 'local-payload-1'], ['SECRETS_MASTER_KEYS', 'local-master-1']] as const) {
    if (configured[name] !== undefined) continue;
    const file = path.join(dataDir, 'keys', name.toLowerCase().replace(/_/g, '-'));
    if (ensureLocalKeyringFile(file, keyId)) say(`created a local ${name} keyring in ${path.relative(projectRoot, file)} (keep it: what it encrypted cannot be read without it)`);
    process.env[`${name}_FILE`] = file;
  }
}

async function main(): Promise<void> {
  useLocalKeyrings();
  const config = loadConfig();
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
  // The dev server's Web UI shows payloads decoded by the API's development codec (api/dev-codec.ts:
  // 127.0.0.1 only, no credential, as an admin of the default tenant); the API process reads the port.
  process.env.CODEC_DEV_PORT ??= '8234';
  const codecEndpoint = `http://127.0.0.1:${process.env.CODEC_DEV_PORT}/codec`;
  let devServer: DevServer | undefined;

  if (await isTemporalReachable(config.TEMPORAL_ADDRESS)) {
    say(`using the Temporal server already answering at ${config.TEMPORAL_ADDRESS}`);
  } else {
    const [host, port] = config.TEMPORAL_ADDRESS.split(':');
    const dbFile = path.join(dataDir, 'temporal.db');
    say(`starting temporal server start-dev on ${config.TEMPORAL_ADDRESS} (state in ${path.relative(projectRoot, dbFile)})`);
    devServer = await startDevServer({
      ip: host,
      port: Number(port),
      uiPort,
      uiCodecEndpoint: codecEndpoint,
      metricsPort: Number(process.env.TEMPORAL_SERVER_METRICS_PORT ?? 9233),
      dbFile,
      logFile: path.join(dataDir, 'temporal-server.log'),
    });
  }
  try {
    await prepareNamespace(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, config.TEMPORAL_NAMESPACE_RETENTION_DAYS);
  } catch (err) {
    await devServer?.stop();
    throw err;
  }

  const fakes = await useFakesForUnconfiguredProviders(loadRegistry());

  const worker = startNode('worker', 'workers/main.js');
  // The API's answers get the CPU first; the inbox drain (worker, dev server) takes what is left.
  for (const pid of [worker.pid, devServer?.process.pid]) if (pid !== undefined) renice(pid, DRAIN_NICE);
  const api = startNode('api', 'api/server.js');

  say('running:');
  say(`  API              http://127.0.0.1:${config.PORT}  (/healthz /readyz, POST /webhooks/stripe, /calls, /bookings)`);
  say(`  console          http://127.0.0.1:${config.PORT}/console/  (sign in with an API key)`);
  say(`  API metrics      http://${config.METRICS_HOST}:${config.API_METRICS_PORT}/metrics`);
  say(`  worker metrics   http://${config.METRICS_HOST}:${config.WORKER_METRICS_PORT}/metrics  (and /healthz /readyz)`);
  say(`  Temporal         ${config.TEMPORAL_ADDRESS} (namespace ${config.TEMPORAL_NAMESPACE})`);
  if (devServer) say(`  Temporal Web UI  http://127.0.0.1:${uiPort}  (payloads decoded by ${codecEndpoint}, development only)`);
  if (fakes) say(`  fake providers   ${fakes.server.url}  for ${fakes.providers.join(', ')} (no credentials configured)`);
  say(`  service API keys npx switchyard keys create --tenant ${config.DEFAULT_TENANT} --role admin --name me`);
  say('Ctrl-C stops everything.');

  let stopping = false;
  const stopAll = async (reason: string, exitCode: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say(`stopping (${reason})`);
    await stopChild(api);
    await stopChild(worker);
    await fakes?.server.close();
    if (devServer) await devServer.stop();
    say('stopped');
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stopAll('SIGINT', 0));
  process.on('SIGTERM', () => void stopAll('SIGTERM', 0));
  for (const [name, child] of [['worker', worker], ['api', api]] as const) {
    child.on('exit', () => void stopAll(`${name} exited unexpectedly`, 1));
  }
}

main().catch((err: unknown) => {
  console.error(`[switchyard] failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
