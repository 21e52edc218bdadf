/**
 * Custom search attributes, declared once: the set-up registers exactly these on the namespace,
 * the API sets them at start and workflows upsert them, so the Temporal Web UI can filter by
 * `provider = "stripe" AND tenant = "acme"`.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const providerKey = defineSearchAttributeKey('provider', SearchAttributeType.KEYWORD);
export const tenantKey = defineSearchAttributeKey('tenant', SearchAttributeType.KEYWORD);
export const eventTypeKey = defineSearchAttributeKey('eventType', SearchAttributeType.KEYWORD);
export const webhookStatusKey = defineSearchAttributeKey('webhookStatus', SearchAttributeType.KEYWORD);

export const customSearchAttributes = [providerKey, tenantKey, eventTypeKey, webhookStatusKey] as const;
