/**
 * The contract between the provider-call activity and the per-provider adapters. An adapter turns
 * validated params into one provider request over the shared HTTP core (or the provider's
 * official SDK) and either returns the provider's answer or throws a classified
 * `ApplicationFailure` (see classify.ts).
 */
import type { z } from 'zod';
import type { OutboundPolicy } from '../../lib/security/outbound-policy';
import type { ProviderConfig } from '../../lib/config/registry';
import type { ErrorBodyReader } from './error-body';

export interface ProviderCallContext {
  provider: ProviderConfig;
  operation: string;
  /** Credentials resolved from the environment for this provider (field → value). Never logged. */
  credentials: Readonly<Record<string, string>>;
  /** Stable across retries of the same activity: workflow id + activity id, hashed. */
  idempotencyKey: string;
  /** Aborted when the activity is cancelled or times out. */
  signal?: AbortSignal;
  /** Which addresses requests may reach (SSRF policy); absent: the strict policy (https, no private ranges). */
  outbound?: OutboundPolicy;
  /** How the provider's failed answers name the reason (its folder's `errorBody`); absent: read generically. */
  errorBody?: ErrorBodyReader;
}

/** Tokens a token-priced call uses (or may use, as an estimate), of one model. */
export interface TokenUsage {
  model: string;
  promptTokens: number;
  completionTokens: number;
}

export interface ProviderResult {
  /** The provider's answer, reduced to what callers need (ids, status). Never contains credentials. */
  data: Record<string, unknown>;
  /** Token-priced operations: what the answer says the call used (its cost is settled from it). */
  usage?: TokenUsage;
}

export interface OperationAdapter<Params> {
  params: z.ZodType<Params>;
  run(params: Params, ctx: ProviderCallContext): Promise<ProviderResult>;
  /**
   * Token-priced operations: the most the call may use, from its params alone (its budget
   * reservation before it is sent; providers/core/token-cost.ts).
   */
  tokenEstimate?(params: Params): TokenUsage;

  /**
   * Sends only: the e-mail addresses or phone numbers the call reaches, checked against the
   * tenant's suppression list before anything is sent (providers/core/recipients.ts).
   */
  recipients?(params: Params): ReadonlyArray<{ channel: 'email' | 'sms'; address: string }>;
}

// Each adapter module exports one of these; the params type differs per operation.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a heterogeneous table; each entry validates its own params with its zod schema before run()
export type ProviderAdapter = Readonly<Record<string, OperationAdapter<any>>>;
