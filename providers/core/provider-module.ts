/**
 * What one provider folder declares, in its index.ts, for the registration list (providers/index.ts)
 * to hand to the rest of the system: its adapter (outbound calls), the signature schemes it brings
 * with the options a webhook source may set, its default webhook sources, its webhook handler
 * activities, and its default registry entries (base URL, credentials, operations with their
 * costs, probe, SLA) as data. Every part is optional: GitHub only receives webhooks, PayPal only
 * answers calls.
 */
import type { Pool } from 'pg';
import type { z } from 'zod';
import type { RegistryEntryInput } from '../../lib/config/registry';
import type { HandlerResult, WebhookEvent } from '../../contracts/webhook';
import type { ProviderAdapter } from './adapter-types';
import type { ErrorBodyReader } from './error-body';
import type { SignatureScheme } from './scheme-types';

/** A signature scheme and the schema of the options a source using it may set. */
export interface SchemeDeclaration {
  // Method parameters are bivariant: a SignatureScheme<StripeOptions> fits; `options` is what
  // the webhook route passes to it, parsed by the schema below when the sources are loaded.
  scheme: SignatureScheme<unknown>;
  options: z.ZodType;
}

/** A webhook source as the sources document declares one (api/webhook-sources.ts validates it). */
export interface WebhookSourceEntry {
  scheme: string;
  options?: Record<string, unknown>;
  tenant?: string;
}

/** One webhook handler activity: idempotent on its own key (a retried attempt applies once). */
export type WebhookHandler = (event: WebhookEvent) => Promise<HandlerResult>;

export interface ProviderModule {
  /** The folder's name; for a provider with an adapter also its registry `kind`. */
  name: string;
  /** Outbound operations by name (providers/prepare-provider-call.ts dispatches to them). */
  adapter?: ProviderAdapter;
  /** How its failed answers name the reason (code, message); absent: the generic reading (core/error-body.ts). */
  errorBody?: ErrorBodyReader;
  /** Signature schemes by scheme name; webhook sources name them. */
  schemes?: Readonly<Record<string, SchemeDeclaration>>;
  /** Default webhook sources by source name (WEBHOOK_SOURCES_FILE replaces all of them). */
  webhookSources?: Readonly<Record<string, WebhookSourceEntry>>;
  /** Handler activities by activity name; workflows/webhook-routes.ts routes event types to them. */
  handlers?: (pool: Pool) => Readonly<Record<string, WebhookHandler>>;
  /** Default registry entries by provider name, usually the folder's own (PROVIDERS_FILE replaces all of them). */
  registry?: Readonly<Record<string, RegistryEntryInput>>;
}
