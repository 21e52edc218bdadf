/**
 * Who a send reaches, for the per-tenant suppression list (lib/data/suppressions.ts): an
 * operation that sends mail or SMS declares `recipients` in its adapter, and the provider-call
 * activity and the API's call route refuse a send to a suppressed address before anything goes
 * out, with one failure: non-retryable `RecipientSuppressed`, naming the address, the list's
 * reason and who put it there.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { suppressedAmong, type Suppression, type SuppressionChannel } from '../../lib/data/suppressions';
import { callErrorTypes } from '../../contracts/errors';
import type { OperationAdapter } from './adapter-types';
import type { ProviderFailureDetails } from './classify';

export interface Recipient {
  channel: SuppressionChannel;
  address: string;
}

/** The suppressed recipients of a send with these (already validated) params; none for an operation that declares no recipients. */
export async function suppressedRecipients(pool: Pick<Pool, 'query'>, tenant: string, adapter: OperationAdapter<unknown>, params: unknown): Promise<Suppression[]> {
  const recipients = adapter.recipients?.(params) ?? [];
  const found: Suppression[] = [];
  for (const channel of ['email', 'sms'] as const) {
    const addresses = recipients.filter((r) => r.channel === channel).map((r) => r.address);
    if (addresses.length > 0) found.push(...(await suppressedAmong(pool, tenant, channel, addresses)));
  }
  return found;
}

/** What an operator reads: the address, why it is on the list and who put it there. */
export function suppressionReason(suppressed: readonly Suppression[]): string {
  return suppressed
    .map((s) => `${s.address} is on the tenant's ${s.channel} suppression list (${s.reason} from ${s.source}${s.changedAt ? ` at ${s.changedAt}` : ''})`)
    .join('; ');
}

/** The failure of a send refused for suppressed recipients: permanent, so neither retried nor failed over. */
export function recipientSuppressedFailure(provider: string, operation: string, suppressed: readonly Suppression[]): ApplicationFailure {
  const details: ProviderFailureDetails = { provider, operation, status: null, code: 'recipient_suppressed', retryable: false };
  return ApplicationFailure.create({
    message: `${provider} ${operation}: recipient_suppressed: ${suppressionReason(suppressed)}; nothing was sent`,
    type: callErrorTypes.recipientSuppressed,
    nonRetryable: true,
    details: [details],
  });
}
