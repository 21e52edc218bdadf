/** Every workflow the worker registers. */
export { processWebhook } from './webhooks';
export { providerCall } from './provider-calls';
export { bookingSaga } from './booking';
export { deliverEvent } from './deliveries';
