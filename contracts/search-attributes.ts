/**
 * Custom search attributes, declared once: the set-up registers exactly these on the namespace,
 * the starts set them (API, Schedules, child workflows) and workflows upsert the outcome ones, so
 * the Temporal Web UI can filter by `kind = "webhook" AND provider = "stripe" AND tenant = "acme"`.
 * README "Saved queries" lists the queries an operator types.
 */
import { defineSearchAttributeKey, type SearchAttributePair, SearchAttributeType } from '@temporalio/common';

export const kindKey = defineSearchAttributeKey('kind', SearchAttributeType.KEYWORD);
export const providerKey = defineSearchAttributeKey('provider', SearchAttributeType.KEYWORD);
export const tenantKey = defineSearchAttributeKey('tenant', SearchAttributeType.KEYWORD);
export const eventTypeKey = defineSearchAttributeKey('eventType', SearchAttributeType.KEYWORD);
export const webhookStatusKey = defineSearchAttributeKey('webhookStatus', SearchAttributeType.KEYWORD);
/** How a deliverEvent run ended (`delivered`, `dead_lettered`, `skipped`): a dead letter completes its run. */
export const deliveryStatusKey = defineSearchAttributeKey('deliveryStatus', SearchAttributeType.KEYWORD);

export const customSearchAttributes = [kindKey, providerKey, tenantKey, eventTypeKey, webhookStatusKey, deliveryStatusKey] as const;

/**
 * The `kind` of each workflow type in workflows/index.ts, set at start: one short word to filter
 * the list by (`kind NOT IN ("probe", "sla-report", "cost-check")` hides the scheduled runs).
 */
export const workflowKinds = {
  processWebhook: 'webhook',
  providerCall: 'call',
  bookingSaga: 'booking',
  sagaStepFollowUp: 'follow-up',
  deliverEvent: 'delivery',
  batch: 'batch',
  healthProbe: 'probe',
  slaReport: 'sla-report',
  costAnomalyCheck: 'cost-check',
  alert: 'alert',
  pruneData: 'retention',
} as const;

export type WorkflowType = keyof typeof workflowKinds;

/** What a start knows about its work; each one given becomes its search attribute. */
export interface StartFacts {
  provider?: string;
  tenant?: string;
  eventType?: string;
}

/** The search attributes a start of `workflowType` carries: its `kind` and the facts it knows. */
export function startAttributes(workflowType: WorkflowType, facts: StartFacts = {}): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [{ key: kindKey, value: workflowKinds[workflowType] }];
  if (facts.provider !== undefined) pairs.push({ key: providerKey, value: facts.provider });
  if (facts.tenant !== undefined) pairs.push({ key: tenantKey, value: facts.tenant });
  if (facts.eventType !== undefined) pairs.push({ key: eventTypeKey, value: facts.eventType });
  return pairs;
}
