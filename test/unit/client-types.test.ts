/**
 * The typed client's request and response types are the schemas its routes declare: each type of
 * client/index.ts equals the input or output of the route declaration it is used with (checked
 * by the compiler: a type that drifts from its route fails to compile, and so this suite fails).
 * The client names the schemas rather than the declarations so that its published types need no
 * server packages.
 */
import { serviceRoutes } from '../../api/access';
import type { BodyOf, QueryOf, ResponseOf } from '../../api/route';
import type * as apiKeys from '../../api/routes/api-keys';
import type * as audit from '../../api/routes/audit';
import type * as batches from '../../api/routes/batches';
import type * as calls from '../../api/routes/calls';
import type * as monitoring from '../../api/routes/monitoring';
import type * as operations from '../../api/routes/operations';
import type * as providers from '../../api/routes/providers';
import type * as subscribers from '../../api/routes/subscribers';
import type * as events from '../../api/routes/webhook-events';
import type * as secrets from '../../api/routes/webhook-secrets';
import type * as client from '../../client';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
/** Query types of the client take `limit` and `offset` as numbers; the route's schema reads them from text. */
type NoLimit<Q> = Omit<Q, 'limit' | 'offset'>;

export type _ClientTypesAreTheDeclaredOnes = [
  Assert<Equal<client.CallAnswer, ResponseOf<typeof calls.startCall, 200>>>,
  Assert<Equal<client.CallAnswer, ResponseOf<typeof calls.book, 202>>>,
  Assert<Equal<client.CallParams, BodyOf<typeof calls.startCall>['params']>>,
  Assert<Equal<client.BookingInput, BodyOf<typeof calls.book>>>,
  Assert<Equal<client.CallList, ResponseOf<typeof calls.listCalls, 200>>>,
  Assert<Equal<NoLimit<client.CallsQuery>, NoLimit<QueryOf<typeof calls.listCalls>>>>,
  Assert<Equal<client.BookingList, ResponseOf<typeof calls.listBookings, 200>>>,
  Assert<Equal<NoLimit<client.BookingsQuery>, NoLimit<QueryOf<typeof calls.listBookings>>>>,
  Assert<Equal<client.BatchItemWaited, ResponseOf<typeof batches.enqueueItem, 200>>>,
  Assert<Equal<client.BatchItemAccepted, ResponseOf<typeof batches.enqueueItem, 202>>>,
  Assert<Equal<client.BatchParams, BodyOf<typeof batches.enqueueItem>['params']>>,
  Assert<Equal<client.BatchItemAnswer, ResponseOf<typeof batches.getBatchItem, 200>>>,
  Assert<Equal<client.BatchItemList, ResponseOf<typeof batches.listBatchItems, 200>>>,
  Assert<Equal<NoLimit<client.BatchItemsQuery>, NoLimit<QueryOf<typeof batches.listBatchItems>>>>,
  Assert<Equal<client.EventList, ResponseOf<typeof events.listEvents, 200>>>,
  Assert<Equal<NoLimit<client.EventsQuery>, NoLimit<QueryOf<typeof events.listEvents>>>>,
  Assert<Equal<client.RerunAnswer, ResponseOf<typeof events.retryEvent, 202>>>,
  Assert<Equal<client.DeliveryList, ResponseOf<typeof subscribers.listDeliveries, 200>>>,
  Assert<Equal<NoLimit<client.DeliveriesQuery>, NoLimit<QueryOf<typeof subscribers.listDeliveries>>>>,
  Assert<Equal<client.SubscriberList, ResponseOf<typeof subscribers.listSubscribers, 200>>>,
  Assert<Equal<client.SubscriberInput, BodyOf<typeof subscribers.createSubscriber>>>,
  Assert<Equal<client.SubscriberCreated, ResponseOf<typeof subscribers.createSubscriber, 201>>>,
  Assert<Equal<client.ProviderHealth, ResponseOf<typeof monitoring.providerHealth, 200>>>,
  Assert<Equal<client.SlaAnswer, ResponseOf<typeof monitoring.slaReports, 200>>>,
  Assert<Equal<client.AlertList, ResponseOf<typeof monitoring.listAlerts, 200>>>,
  Assert<Equal<client.AlertView, ResponseOf<typeof monitoring.getAlert, 200>>>,
  Assert<Equal<client.AckInput, BodyOf<typeof monitoring.ackAlert>>>,
  Assert<Equal<client.AckAnswer, ResponseOf<typeof monitoring.ackAlert, 202>>>,
  Assert<Equal<client.BudgetList, ResponseOf<typeof providers.listBudgets, 200>>>,
  Assert<Equal<client.CircuitList, ResponseOf<typeof providers.listCircuits, 200>>>,
  Assert<Equal<client.CacheStats, ResponseOf<typeof operations.cacheStats, 200>>>,
  Assert<Equal<client.CacheStatsQuery, QueryOf<typeof operations.cacheStats>>>,
  Assert<Equal<client.CircuitReset, ResponseOf<typeof operations.resetCircuit, 200>>>,
  Assert<Equal<client.RateLimitList, ResponseOf<typeof operations.rateLimits, 200>>>,
  Assert<Equal<client.BatchQueueList, ResponseOf<typeof operations.batchQueues, 200>>>,
  Assert<Equal<client.AlertStatistics, ResponseOf<typeof operations.alertStatistics, 200>>>,
  Assert<Equal<client.PeriodQuery, QueryOf<typeof operations.alertStatistics>>>,
  Assert<Equal<client.PeriodQuery, QueryOf<typeof operations.performanceReport>>>,
  Assert<Equal<client.EffectiveConfig, ResponseOf<typeof operations.effectiveConfig, 200>>>,
  Assert<Equal<client.FailoverTable, ResponseOf<typeof operations.failoverConfig, 200>>>,
  Assert<Equal<client.PerformanceReport, ResponseOf<typeof operations.performanceReport, 200>>>,
  Assert<Equal<client.ApiKeyInput, BodyOf<typeof apiKeys.createKey>>>,
  Assert<Equal<client.ApiKeyCreated, ResponseOf<typeof apiKeys.createKey, 201>>>,
  Assert<Equal<client.ApiKeyList, ResponseOf<typeof apiKeys.listKeys, 200>>>,
  Assert<Equal<client.WebhookSecretInput, BodyOf<typeof secrets.storeWebhookSecret>>>,
  Assert<Equal<client.WebhookSecretCreated, ResponseOf<typeof secrets.storeWebhookSecret, 201>>>,
  Assert<Equal<client.WebhookSecretList, ResponseOf<typeof secrets.listWebhookSecrets, 200>>>,
  Assert<Equal<client.WebhookSecretsQuery, QueryOf<typeof secrets.listWebhookSecrets>>>,
  Assert<Equal<client.WebhookSecretPatch, BodyOf<typeof secrets.expireWebhookSecret>>>,
  Assert<Equal<client.WebhookSecretInfo, ResponseOf<typeof secrets.expireWebhookSecret, 200>>>,
  Assert<Equal<client.AuditList, ResponseOf<typeof audit.listAuditEntries, 200>>>,
  Assert<Equal<NoLimit<client.AuditQuery>, NoLimit<QueryOf<typeof audit.listAuditEntries>>>>,
];

test('the routes the client calls are declared (their types are checked above at compile time)', () => {
  const declared = new Set(serviceRoutes().map((route) => `${route.method} ${route.path}`));
  const called = [
    'POST /calls/:provider/:operation', 'GET /calls', 'GET /calls/:workflowId', 'POST /bookings', 'GET /bookings', 'GET /bookings/:workflowId',
    'POST /batches/:provider/:operation', 'GET /batches/items', 'GET /batches/items/:id', 'GET /webhooks/events', 'GET /webhooks/events/:workflowId',
    'POST /webhooks/events/:workflowId/retry', 'GET /deliveries', 'POST /deliveries/:id/replay', 'GET /subscribers', 'POST /subscribers',
    'GET /provider-health', 'GET /circuits', 'GET /budgets', 'GET /sla', 'GET /alerts', 'GET /alerts/:id', 'POST /alerts/:id/ack',
    'POST /api-keys', 'GET /api-keys', 'DELETE /api-keys/:keyId', 'POST /webhook-secrets', 'GET /webhook-secrets', 'PATCH /webhook-secrets/:id',
    'DELETE /webhook-secrets/:id', 'GET /audit',
    'GET /cache/stats', 'POST /circuits/:provider/reset', 'GET /rate-limits', 'GET /batch-queues', 'GET /alerts/statistics', 'GET /config',
    'GET /config/failover', 'GET /reports/performance',
  ];
  expect(called.filter((route) => !declared.has(route))).toEqual([]);
});
