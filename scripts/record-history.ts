/**
 * Saves a workflow's event history as JSON into test/replay/histories, for the replay test, using
 * the pinned Temporal CLI (`temporal workflow show --output json`, the format the SDK replays).
 *   npm run record-history -- <workflowId> <name>
 * Uses TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (the running system by default).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../lib/config/config';
import { temporalCliPath } from '../lib/temporal/dev-server';
import { projectRoot } from '../lib/config/paths';

function main(): void {
  const [workflowId, name] = process.argv.slice(2);
  if (!workflowId || !name || !/^[a-z0-9-]+$/.test(name)) {
    console.error('usage: npm run record-history -- <workflowId> <name: lowercase, digits, dashes>');
    process.exit(2);
  }
  const config = loadConfig();
  const json = execFileSync(
    temporalCliPath,
    ['workflow', 'show', '--workflow-id', workflowId, '--address', config.TEMPORAL_ADDRESS, '--namespace', config.TEMPORAL_NAMESPACE, '--output', 'json'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const history = JSON.parse(json) as { events?: unknown[] };
  const file = path.join(projectRoot, 'test', 'replay', 'histories', `${name}.json`);
  writeFileSync(file, `${JSON.stringify(history, null, 2)}\n`);
  console.log(`wrote ${path.relative(projectRoot, file)} (${history.events?.length ?? 0} events)`);
}

main();
