/**
 * Connections to the Temporal server and the namespace set-up every process relies on.
 */
import { Client, Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { customSearchAttributes } from '../workflows/search-attributes';

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

export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace });
}
