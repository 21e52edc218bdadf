/** Every workflow the worker registers. */
export { processWebhook } from './webhooks';
export { providerCall } from './provider-calls';
export { bookingSaga } from './booking';
export { deliverEvent } from './deliveries';
export { batch } from './batches';
export { costAnomalyCheck, healthProbe, slaReport } from './monitoring'; // monitoring (issue 6), cost anomalies (issue 12)
export { alert } from './alerts'; // monitoring (issue 6)
export { pruneData } from './retention'; // retention (issue 11)
