/** Every workflow the worker registers. */
export { processWebhook } from './webhooks';
export { providerCall } from './provider-calls';
export { bookingSaga, sagaStepFollowUp } from './booking';
export { deliverEvent } from './deliveries';
export { batch } from './batches';
export { costAnomalyCheck, healthProbe, slaReport } from './monitoring';
export { alert } from './alerts';
export { pruneData } from './retention';
