/** Every workflow the worker registers. */
export { processWebhook } from './webhooks';
