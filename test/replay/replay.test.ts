/**
 * Replays every recorded history in test/replay/histories against the current workflow code. A
 * change that would break running workflows (non-determinism) fails here. Record a new history
 * with `npm run record-history -- <workflowId> <file-name>` against a running system.
 *
 * Replays run with the payload codec and the tests' keyring (jest's global set-up): `*-encrypted`
 * histories were recorded with payload encryption on, the others before it existed (their
 * plaintext payloads pass through the codec unchanged).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../../lib/config/config';
import { workerDataConverter } from '../../workers/worker';
import { workflowBundle } from '../support/workflow-bundle';

const dir = path.join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

test('there are recorded histories to replay', () => {
  expect(files.length).toBeGreaterThan(0);
});

const dataConverter = workerDataConverter(loadConfig().PAYLOAD_ENCRYPTION_KEYS);

test('encrypted histories are among them', () => {
  expect(files.filter((f) => f.endsWith('-encrypted.json')).length).toBeGreaterThan(0);
});

test.each(files)('%s replays without non-determinism', async (file) => {
  const history: unknown = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter }, history, file.replace(/\.json$/, ''));
});
