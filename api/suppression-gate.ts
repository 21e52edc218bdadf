/**
 * The suppression list at the door of the work routes (`POST /calls/…`, `POST /batches/…`): a
 * send to an address on the tenant's list (bounced, unsubscribed, opted out of SMS) is a 422
 * `recipient_suppressed` naming the address and why, and starts nothing. The provider-call
 * activity checks again (providers/core/recipients.ts) for sends that do not come through here
 * (booking sagas) or whose address was suppressed after they were accepted.
 */
import type { Response } from 'express';
import type { Pool } from 'pg';
import type { OperationAdapter } from '../providers/core/adapter-types';
import { suppressedRecipients, suppressionReason } from '../providers/core/recipients';
import { sendError } from './errors';

/** True once the 422 is sent. */
export async function refusedForSuppression(pool: Pick<Pool, 'query'>, res: Response, tenant: string, adapter: OperationAdapter<unknown>, params: unknown): Promise<boolean> {
  const suppressed = await suppressedRecipients(pool, tenant, adapter, params);
  if (suppressed.length === 0) return false;
  sendError(res, 422, 'recipient_suppressed', `${suppressionReason(suppressed)}: nothing was sent (an operator can lift it: DELETE /suppressions/{channel}/{address})`);
  return true;
}
