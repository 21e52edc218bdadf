/**
 * Connections to the Temporal server and the namespace set-up every process relies on.
 */
import { Client, Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs, optionalTsToMs } from '@temporalio/common/lib/time';
import { customSearchAttributes } from '../../contracts/search-attributes';
import type { Keyring } from '../security/keyring';
import { payloadDataConverter } from '../security/payload-codec';

/** True when a Temporal frontend answers at `address` within `timeoutMs`. */
export async function isTemporalReachable(address: string, timeoutMs = 2000): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.withDeadline(Date.now() + timeoutMs, () => connection!.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Waits until a Temporal frontend answers, or throws after `timeoutMs`. */
export async function waitForTemporal(address: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isTemporalReachable(address, 1000)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Temporal server at ${address} did not answer within ${timeoutMs} ms`);
}

/** Registers Switchyard's custom search attributes on the namespace; existing ones are left alone. */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = customSearchAttributes.filter((key) => !known.has(key.name));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type) ?? 0]),
    ),
  });
  return missing.map((key) => key.name);
}

const DAY_MS = 86_400_000;

/**
 * Sets the namespace's workflow execution retention (how long closed workflow histories are kept)
 * to `days` when it differs. Returns the previous value in days, or undefined when unchanged.
 */
export async function ensureNamespaceRetention(connection: Connection, namespace: string, days: number): Promise<number | undefined> {
  const described = await connection.workflowService.describeNamespace({ namespace });
  const currentMs = optionalTsToMs(described.config?.workflowExecutionRetentionTtl);
  if (currentMs === days * DAY_MS) return undefined;
  await connection.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: msToTs(days * DAY_MS) },
  });
  return currentMs === undefined ? 0 : currentMs / DAY_MS;
}

/** A client whose payloads go through the codec when `payloadKeys` (PAYLOAD_ENCRYPTION_KEYS) is set. */
export async function connectClient(address: string, namespace: string, payloadKeys: Keyring | undefined): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace, dataConverter: payloadDataConverter(payloadKeys) });
}
