/**
 * Fake answers for the monitoring-only registry entries (providers/monitor/index.ts): each API's
 * probe path with a small body in its own shape, so `npm start` without internet finds them up.
 * Every route is operation `probe`; a fault on provider `monitor` makes all of them fail.
 * (Facebook's `GET /v21.0/me` is the fake WhatsApp's probe route.)
 */
import { json, type ProviderModule, type Route } from './provider-module';

function probeRoute(path: RegExp, body: unknown): Route {
  return { method: 'GET', path, operation: 'probe', handle: () => json(200, body) };
}

export const monitor: ProviderModule = {
  id: 'monitor',
  routes: [
    // Resend: the account's sending domains.
    probeRoute(/^\/domains$/, { object: 'list', data: [] }),
    // Razorpay: the latest payment (count=1).
    probeRoute(/^\/v1\/payments$/, { entity: 'collection', count: 0, items: [] }),
    // Cloudflare: the API token's own status.
    probeRoute(/^\/client\/v4\/user\/tokens\/verify$/, { success: true, errors: [], messages: [], result: { id: 'fake-token', status: 'active' } }),
    // DigitalOcean: the account.
    probeRoute(/^\/v2\/account$/, { account: { uuid: 'fake-account', status: 'active', email_verified: true } }),
    // Google Cloud's public status feed.
    probeRoute(/^\/incidents\.json$/, []),
    // Synthesia: the latest video.
    probeRoute(/^\/v2\/videos$/, { videos: [] }),
    // LinkedIn: the member's OpenID Connect userinfo.
    probeRoute(/^\/v2\/userinfo$/, { sub: 'fake-member', name: 'Switchyard Fake' }),
  ],
  faultBodies: {
    status: (status) => ({ error: { code: status, message: `The fake monitored API answered ${status} (injected fault).` } }),
    rateLimit: () => ({ error: { code: 429, message: 'Too Many Requests' } }),
    validation: () => ({ error: { code: 400, message: 'Bad Request' } }),
  },
};
