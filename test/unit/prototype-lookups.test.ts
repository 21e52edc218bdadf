/**
 * Lookups keyed by user input find own entries only: a provider, operation or
 * event type named like an Object.prototype member is unknown, never the member itself.
 */
import fc from 'fast-check';
import { adapterFor } from '../../providers/prepare-provider-call';
import { loadRegistry, operationCost, operationNamed, parseRegistry, providerNamed } from '../../lib/config/registry';
import { routeWebhook } from '../../workflows/webhook-routes';

const propertyName = fc.constantFrom(...Object.getOwnPropertyNames(Object.prototype), 'prototype');
const registry = loadRegistry({});

test('a prototype member name is no provider, operation, adapter or cost', () => {
  fc.assert(
    fc.property(propertyName, (name) => {
      expect(providerNamed(registry, name)).toBeUndefined();
      for (const provider of Object.values(registry)) {
        expect(operationNamed(provider, name)).toBeUndefined();
        expect(adapterFor(provider, name)).toBeUndefined();
        expect(operationCost(registry, provider.name, name)).toBe(0);
      }
      expect(operationCost(registry, name, 'charge')).toBe(0);
    }),
  );
  expect(providerNamed(registry, 'stripe')?.name).toBe('stripe');
  expect(operationCost(registry, 'sendgrid', 'sendMail')).toBeGreaterThan(0);
});

test('a prototype member name as provider or event type routes to no webhook handler', () => {
  fc.assert(
    fc.property(propertyName, fc.constantFrom('stripe', 'generic-shopify'), (name, provider) => {
      expect(routeWebhook(provider, name)).toBeNull();
      expect(routeWebhook(name, 'payment_intent.succeeded')).toBeNull();
      expect(routeWebhook(name, name)).toBeNull();
    }),
  );
  expect(routeWebhook('stripe', 'payment_intent.succeeded')).toBe('recordStripePayment');
});

test('a failover backup named like a prototype member is an unknown provider in the registry', () => {
  const document = {
    providers: {
      p: { kind: 'stripe', baseUrl: 'https://p.example', operations: { charge: { failoverCapable: true } }, failover: { strategy: 'primary-secondary', backups: ['constructor'] } },
    },
  };
  expect(() => parseRegistry(document)).toThrow(/failover\.backups: unknown provider "constructor"/);
});
