/**
 * The Temporal floor's workflow (bench/floor.ts, phase (i) of bench/burst.ts): two no-op local
 * activities and nothing else, the least a workflow of the `processWebhook` kind costs on this
 * server and SDK. Bundled on its own by the bench-only worker; never part of the product's bundle.
 */
import { proxyLocalActivities } from '@temporalio/workflow';

export interface FloorActivities {
  noop(): Promise<void>;
}

const { noop } = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '10 seconds' });

export async function benchFloor(): Promise<void> {
  await noop();
  await noop();
}
