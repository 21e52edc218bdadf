/**
 * The registration list: every provider Switchyard knows, one line each. Everything else finds
 * providers here: the adapters by kind (providers/prepare-provider-call.ts), the signature
 * schemes and default webhook sources (api/webhook-schemes.ts, api/webhook-sources.ts), the
 * webhook handler activities (activities/index.ts), and the default provider registry
 * (lib/config/registry.ts). A provider's folder declares what it brings in its index.ts
 * (providers/core/provider-module.ts). Workflow code never imports this module: it routes
 * webhooks through the pure routing table in workflows/webhook-routes.ts.
 */
import type { Pool } from 'pg';
import type { ProviderAdapter } from './core/adapter-types';
import { readErrorBody, type ErrorBodyReader, type ProviderErrorBody } from './core/error-body';
import type { ProviderModule, SchemeDeclaration, WebhookHandler, WebhookSourceEntry } from './core/provider-module';
import { airtable } from './airtable';
import { genericHmac } from './generic-hmac';
import { github } from './github';
import { googleCalendar } from './google-calendar';
import { googleMaps } from './google-maps';
import { googleMyBusiness } from './google-my-business';
import { googleSheets } from './google-sheets';
import { http } from './http';
import { monitor } from './monitor';
import { openai } from './openai';
import { paypal } from './paypal';
import { sendgrid } from './sendgrid';
import { standardWebhooks } from './standard-webhooks';
import { stripe } from './stripe';
import { twilio } from './twilio';
import { vonageSms } from './vonage-sms';
import { whatsapp } from './whatsapp';
import { yandexMaps } from './yandex-maps';

/** In this order the default registry and the default webhook sources list their entries. */
export const providerModules = [
  stripe,
  paypal,
  twilio,
  vonageSms,
  whatsapp,
  sendgrid,
  googleCalendar,
  googleMaps,
  yandexMaps,
  googleSheets,
  http,
  openai,
  googleMyBusiness,
  airtable,
  monitor,
  github,
  standardWebhooks,
  genericHmac,
] as const satisfies readonly ProviderModule[];

type Registered = (typeof providerModules)[number];

/** One table from every module's part; a name two modules declare is a mistake caught at start. */
function merged<Value>(part: string, tables: readonly (Readonly<Record<string, Value>> | undefined)[]): Record<string, Value> {
  const all: Record<string, Value> = {};
  for (const table of tables) {
    for (const [name, value] of Object.entries(table ?? {})) {
      if (Object.hasOwn(all, name)) throw new Error(`two registered providers declare the ${part} "${name}"`);
      all[name] = value;
    }
  }
  return all;
}

/** A registry entry's `kind`: the name of a registered provider with an adapter. */
export type ProviderKind = Extract<Registered, { adapter: ProviderAdapter }>['name'];

export const providerKinds = providerModules.flatMap((module) => ('adapter' in module ? [module.name] : [])) as [ProviderKind, ...ProviderKind[]];

/**
 * The kinds as plain strings, for the registry's schema (lib/config/registry.ts). Annotated rather than
 * inferred: the registry's entry type, which the folders' defaults satisfy, is built from it.
 */
export function registeredKinds(): [string, ...string[]] {
  return providerKinds;
}

/** The adapter of each kind. */
export const adapters = Object.fromEntries(
  providerModules.flatMap((module) => ('adapter' in module ? [[module.name, module.adapter]] : [])),
) as Readonly<Record<ProviderKind, ProviderAdapter>>;

/** How each kind's failed answers name the reason; a kind without one is read generically. */
export const errorBodies = Object.fromEntries(
  providerModules.flatMap((module) => ('errorBody' in module ? [[module.name, module.errorBody]] : [])),
) as Readonly<Partial<Record<ProviderKind, ErrorBodyReader>>>;

/** How a `kind` provider's failed answers name the reason; undefined: read generically (hasOwn: "toString" is no kind). */
export function errorBodyFor(kind: string | undefined): ErrorBodyReader | undefined {
  return kind !== undefined && Object.hasOwn(errorBodies, kind) ? errorBodies[kind as ProviderKind] : undefined;
}

/** The code and message of a failed answer of a `kind` provider. */
export function providerErrorBody(kind: string | undefined, body: unknown): ProviderErrorBody {
  return readErrorBody(errorBodyFor(kind), body);
}

type SchemesOf<M> = M extends { schemes: infer S } ? keyof S : never;
/** A webhook source's `scheme`: one a registered provider declares. */
export type SchemeName = Extract<SchemesOf<Registered>, string>;

/** Every signature scheme by name. */
export const schemeDeclarations = merged<SchemeDeclaration>(
  'signature scheme',
  providerModules.map((module) => ('schemes' in module ? module.schemes : undefined)),
) as Readonly<Record<SchemeName, SchemeDeclaration>>;

/** The webhook sources document used when WEBHOOK_SOURCES_FILE is not set. */
export function defaultWebhookSourcesDocument(): { sources: Record<string, WebhookSourceEntry> } {
  return { sources: merged<WebhookSourceEntry>('webhook source', providerModules.map((module) => ('webhookSources' in module ? module.webhookSources : undefined))) };
}

/** The provider registry document used when PROVIDERS_FILE is not set. */
export function defaultRegistryDocument(): { providers: Record<string, unknown> } {
  return { providers: merged<unknown>('registry entry', providerModules.map((module) => ('registry' in module ? module.registry : undefined))) };
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type HandlersOf<M> = M extends { handlers: (pool: Pool) => infer H } ? H : never;
/** Every registered webhook handler activity, by activity name. */
export type WebhookHandlerActivities = UnionToIntersection<HandlersOf<Registered>>;

/** The webhook handler activities of every registered provider, built over the pool. */
export function createWebhookHandlers(pool: Pool): WebhookHandlerActivities {
  return merged<WebhookHandler>('webhook handler', providerModules.map((module) => ('handlers' in module ? module.handlers(pool) : undefined))) as WebhookHandlerActivities;
}
