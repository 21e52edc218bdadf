/**
 * Monitoring-only registry entries (kind `monitor`): APIs Switchyard does not call but whose
 * health it watches, as the source health monitor watched its integrations. Each is a registry
 * entry alone: probe URL, auth, the status that means up (`expectedStatus`), limits, SLA and the
 * cost of nothing. The healthProbe Schedule, scores, circuits, SLA reports and alerts treat them
 * like every other provider; an entry declares no operations (the registry refuses any), so no
 * call can be made through them. Adding one: an entry here, or in a PROVIDERS_FILE, nothing else.
 *
 * The ones shipped are the source monitor's named integrations with a cheap read or a public
 * status endpoint: Resend, Razorpay, Cloudflare, DigitalOcean, Google Cloud (its
 * public status feed), Synthesia, LinkedIn and Facebook (Graph API). Stripe, PayPal, Twilio,
 * WhatsApp Business and OpenAI are probed through their own provider folders. (Anthropic's
 * `GET /v1/models` with `x-api-key` fits too, as a `header` auth entry, but shares its path with
 * OpenAI's probe on the one fake server, so it is left to a PROVIDERS_FILE.) The fakes answer
 * every probe path here (test/fakes/providers/monitor.ts).
 */
import type { ProviderAdapter } from '../core/adapter-types';
import type { ProviderModule } from '../core/provider-module';

/** No operations: a monitor entry is probed only. */
const noOperations: ProviderAdapter = {};

/** What every monitor entry shares: no budget to spend, one probe a minute. */
const monitored = { kind: 'monitor', operations: {}, rateLimitPerSecond: 1, timeoutMs: 5000 } as const;

export const monitor = {
  name: 'monitor' as const,
  adapter: noOperations,
  registry: {
    resend: {
      ...monitored,
      baseUrl: 'https://api.resend.com',
      credentials: { apiKey: 'RESEND_API_KEY' },
      probe: { method: 'GET', path: '/domains', auth: { kind: 'bearer', token: 'apiKey' }, expectedStatus: [200], intervalSeconds: 60 },
      sla: { availability: 0.999, p95Ms: 2000, errorRate: 0.01 },
    },
    razorpay: {
      ...monitored,
      baseUrl: 'https://api.razorpay.com',
      credentials: { keyId: 'RAZORPAY_KEY_ID', keySecret: 'RAZORPAY_KEY_SECRET' },
      probe: { method: 'GET', path: '/v1/payments?count=1', auth: { kind: 'basic', username: 'keyId', password: 'keySecret' }, expectedStatus: [200], intervalSeconds: 60 },
      sla: { availability: 0.999, p95Ms: 2000, errorRate: 0.01 },
    },
    cloudflare: {
      ...monitored,
      baseUrl: 'https://api.cloudflare.com',
      credentials: { apiToken: 'CLOUDFLARE_API_TOKEN' },
      probe: { method: 'GET', path: '/client/v4/user/tokens/verify', auth: { kind: 'bearer', token: 'apiToken' }, expectedStatus: [200], intervalSeconds: 60 },
      sla: { availability: 0.999, p95Ms: 2000, errorRate: 0.01 },
    },
    digitalocean: {
      ...monitored,
      baseUrl: 'https://api.digitalocean.com',
      credentials: { token: 'DIGITALOCEAN_TOKEN' },
      probe: { method: 'GET', path: '/v2/account', auth: { kind: 'bearer', token: 'token' }, expectedStatus: [200], intervalSeconds: 60 },
      sla: { availability: 0.999, p95Ms: 2000, errorRate: 0.01 },
    },
    'google-cloud': {
      ...monitored,
      // Google Cloud's public status feed: no credentials, a 200 with the incident list.
      baseUrl: 'https://status.cloud.google.com',
      probe: { method: 'GET', path: '/incidents.json', expectedStatus: [200], intervalSeconds: 300, timeoutMs: 10000 },
      sla: { availability: 0.999, p95Ms: 3000, errorRate: 0.01 },
    },
    synthesia: {
      ...monitored,
      baseUrl: 'https://api.synthesia.io',
      credentials: { apiKey: 'SYNTHESIA_API_KEY' },
      // Synthesia takes the bare key in Authorization (no "Bearer").
      probe: { method: 'GET', path: '/v2/videos?limit=1', auth: { kind: 'header', headers: { authorization: 'apiKey' } }, expectedStatus: [200], intervalSeconds: 300 },
      sla: { availability: 0.99, p95Ms: 5000, errorRate: 0.05 },
    },
    linkedin: {
      ...monitored,
      baseUrl: 'https://api.linkedin.com',
      credentials: { accessToken: 'LINKEDIN_ACCESS_TOKEN' },
      probe: { method: 'GET', path: '/v2/userinfo', auth: { kind: 'bearer', token: 'accessToken' }, expectedStatus: [200], intervalSeconds: 300 },
      sla: { availability: 0.995, p95Ms: 3000, errorRate: 0.02 },
    },
    facebook: {
      ...monitored,
      baseUrl: 'https://graph.facebook.com',
      credentials: { accessToken: 'FACEBOOK_ACCESS_TOKEN' },
      probe: { method: 'GET', path: '/v21.0/me', auth: { kind: 'bearer', token: 'accessToken' }, expectedStatus: [200], intervalSeconds: 300 },
      sla: { availability: 0.995, p95Ms: 3000, errorRate: 0.02 },
    },
  },
} satisfies ProviderModule;
