/**
 * The per-tenant suppression list end to end, on the real Temporal dev server and PostgreSQL:
 * SendGrid's signed Event Webhook (bounce, unsubscribe, group_resubscribe) and Twilio's signed
 * inbound SMS (STOP, START) change the list; a later send to a listed address is refused with
 * 422 `recipient_suppressed` before anything starts, and a provider call that reaches the
 * activity anyway fails permanently (`RecipientSuppressed`, one attempt, nothing sent); the fake
 * Twilio answers 21610 for a number that texted STOP, classified permanent; other tenants are
 * unaffected; an operator lifts an entry with DELETE /suppressions/{channel}/{address}.
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import twilio from 'twilio';
import { providerCallWorkflowId } from '../../contracts/call';
import { webhookWorkflowId } from '../../contracts/webhook';
import { startProviderCall } from '../../lib/temporal/start-work';
import type { FakeProviders } from '../fakes/provider-server';
import { startStack, type RunningApi, type TestStack } from '../support/harness';
import { whenStarted } from '../support/inbox';

const twilioAuthToken = 'twilio_auth_token_suppressions_0123';
const sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

let stack: TestStack;
let fakes: FakeProviders;
let api: RunningApi;
const tenant = `sup${randomUUID().slice(0, 8)}`;
const otherTenant = `oth${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  // Both tenants' signing secrets, as an operator configures them (WEBHOOK_SECRETS_FILE).
  const sendgridKey = sendgridKeys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const secretsFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'switchyard-suppressions-')), 'secrets.json');
  const secrets = { sendgrid: [{ secret: sendgridKey }], twilio: [{ secret: twilioAuthToken }] };
  writeFileSync(secretsFile, JSON.stringify({ [tenant]: secrets, [otherTenant]: secrets }));
  ({ fakes, api } = stack = await startStack({ config: { CALL_WAIT_MS: 30_000 }, api: { secretsFile } }));
});

afterAll(() => stack?.close());

const now = () => Math.floor(Date.now() / 1000);

async function json(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

/** SendGrid events for `forTenant`, signed as SendGrid signs them; resolves once every event's workflow has finished. */
async function sendgridEvents(forTenant: string, events: Array<Record<string, unknown>>): Promise<void> {
  const withIds = events.map((event) => ({ sg_event_id: `sg-${randomUUID()}`, timestamp: now(), ...event }));
  const body = JSON.stringify(withIds);
  const timestamp = String(now());
  const res = await api.fetch(`/tenants/${forTenant}/webhooks/sendgrid`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-twilio-email-event-webhook-signature': sign('sha256', Buffer.from(timestamp + body), sendgridKeys.privateKey).toString('base64'),
      'x-twilio-email-event-webhook-timestamp': timestamp,
    },
    body,
  });
  expect(res.status).toBeLessThan(300);
  await Promise.all(withIds.map(async (event) => (await whenStarted(api.workflows, webhookWorkflowId(forTenant, 'sendgrid', event.sg_event_id))).result()));
}

/** An inbound SMS from `from`: first to the fake Twilio (which keeps its own opt-out list), then Twilio's signed webhook to Switchyard. */
async function inboundSms(forTenant: string, from: string, text: string): Promise<void> {
  fakes.twilioInbound(from, text);
  const sid = `SM${randomUUID().replace(/-/g, '')}`;
  const params = { MessageSid: sid, SmsSid: sid, AccountSid: 'ACfake00000000000000000000000000', From: from, To: '+15005550006', Body: text, SmsStatus: 'received', NumMedia: '0' };
  const path = `/tenants/${forTenant}/webhooks/twilio`;
  const res = await api.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(twilioAuthToken, `${api.url}${path}`, params) },
    body: new URLSearchParams(params).toString(),
  });
  expect(res.status).toBeLessThan(300);
  await (await whenStarted(api.workflows, webhookWorkflowId(forTenant, 'twilio', `${sid}:received`))).result();
}

async function call(forTenant: string, provider: string, operation: string, params: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await api.fetch(`/tenants/${forTenant}/calls/${provider}/${operation}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ params }),
  });
  return { status: res.status, json: await json(res) };
}

const mail = (to: string) => ({ to, subject: 'Booking confirmed', text: 'See you on Tuesday' });

test('bounce and unsubscribe events suppress the address for that tenant only; a send to it is refused before anything starts', async () => {
  await sendgridEvents(tenant, [
    { email: 'Bounced.Guest@Example.com', event: 'bounce', type: 'bounce', reason: '550 5.1.1 mailbox does not exist' },
    { email: 'unsub@example.com', event: 'unsubscribe' },
    { email: 'soft@example.com', event: 'bounce', type: 'blocked', reason: '421 try again later' },
    { email: 'fine@example.com', event: 'delivered' },
  ]);

  const listed = await json(await api.fetch(`/tenants/${tenant}/suppressions?channel=email`));
  expect((listed.suppressions as Array<{ address: string; reason: string; source: string }>).map((s) => [s.address, s.reason, s.source]).sort()).toEqual([
    ['bounced.guest@example.com', 'bounce', 'sendgrid'],
    ['unsub@example.com', 'unsubscribe', 'sendgrid'],
  ]);

  const mailsBefore = fakes.state().mails;
  const refused = await call(tenant, 'sendgrid', 'sendMail', mail('bounced.guest@example.com'));
  expect(refused.status).toBe(422);
  expect(refused.json).toMatchObject({ error: 'recipient_suppressed' });
  expect(refused.json.reason).toMatch(/bounced\.guest@example\.com is on the tenant's email suppression list \(bounce from sendgrid/);
  // A blocked (temporary) bounce and a delivery suppress nothing.
  expect((await call(tenant, 'sendgrid', 'sendMail', mail('soft@example.com'))).json.status).toBe('completed');
  expect(fakes.state().mails).toBe(mailsBefore + 1);

  // Another tenant mails the same address as before.
  const elsewhere = await call(otherTenant, 'sendgrid', 'sendMail', mail('Bounced.Guest@example.com'));
  expect(elsewhere.json.status).toBe('completed');
  expect((await json(await api.fetch(`/tenants/${otherTenant}/suppressions`))).suppressions).toEqual([]);
});

test('a call that reaches the activity anyway fails permanently: one attempt, RecipientSuppressed, nothing sent', async () => {
  const mailsBefore = fakes.state().mails;
  const workflowId = providerCallWorkflowId(tenant, 'sendgrid', randomUUID());
  await startProviderCall(api.workflows, stack.config, workflowId, { tenant, provider: 'sendgrid', operation: 'sendMail', params: mail('BOUNCED.guest@example.com'), priority: 'normal' });
  await expect((await whenStarted(api.workflows, workflowId)).result()).rejects.toMatchObject({
    cause: { type: 'RecipientSuppressed', message: expect.stringMatching(/recipient_suppressed: bounced\.guest@example\.com .*nothing was sent/) as string },
  });
  expect(fakes.state().mails).toBe(mailsBefore);
});

test('group_resubscribe lifts an unsubscribe but not a bounce; an operator lifts the bounce', async () => {
  await sendgridEvents(tenant, [
    { email: 'unsub@example.com', event: 'group_resubscribe', asm_group_id: 7 },
    { email: 'bounced.guest@example.com', event: 'group_resubscribe', asm_group_id: 7 },
  ]);
  expect((await call(tenant, 'sendgrid', 'sendMail', mail('unsub@example.com'))).json.status).toBe('completed');
  expect((await call(tenant, 'sendgrid', 'sendMail', mail('bounced.guest@example.com'))).status).toBe(422);

  // Hostile paths: no channel "__proto__", no NUL in an address, nothing of another tenant's.
  expect((await api.fetch(`/tenants/${tenant}/suppressions/__proto__/x`, { method: 'DELETE' })).status).toBe(400);
  expect((await api.fetch(`/tenants/${tenant}/suppressions/email/bounced.guest%00@example.com`, { method: 'DELETE' })).status).toBe(400);
  expect((await api.fetch(`/tenants/${otherTenant}/suppressions/email/bounced.guest%40example.com`, { method: 'DELETE' })).status).toBe(404);

  expect((await api.fetch(`/tenants/${tenant}/suppressions/email/Bounced.Guest%40example.com`, { method: 'DELETE' })).status).toBe(204);
  expect((await api.fetch(`/tenants/${tenant}/suppressions/email/bounced.guest%40example.com`, { method: 'DELETE' })).status).toBe(404);
  expect((await call(tenant, 'sendgrid', 'sendMail', mail('bounced.guest@example.com'))).json.status).toBe('completed');

  // A bounce older than the lift, delivered late, does not suppress the address again.
  await sendgridEvents(tenant, [{ email: 'bounced.guest@example.com', event: 'bounce', type: 'bounce', timestamp: now() - 3600 }]);
  expect((await call(tenant, 'sendgrid', 'sendMail', mail('bounced.guest@example.com'))).json.status).toBe('completed');
});

test('an inbound STOP opts the number out of SMS for that tenant; Twilio itself answers 21610, classified permanent; START opts it back in', async () => {
  const number = '+14155550123';
  await inboundSms(tenant, number, '  sToP \n');
  await inboundSms(tenant, '+14155550999', 'stop texting me please'); // not a keyword: nothing changes

  const refused = await call(tenant, 'twilio', 'sendSms', { to: number, body: 'Your booking is confirmed' });
  expect(refused.status).toBe(422);
  expect(refused.json.reason).toMatch(/\+14155550123 is on the tenant's sms suppression list \(opt_out from twilio/);
  expect((await call(tenant, 'twilio', 'sendSms', { to: '+14155550999', body: 'hi' })).json.status).toBe('completed');

  // The other tenant has no opt-out recorded, so the send reaches Twilio, which refuses it (the
  // opt-out is Twilio's, per sending number): 21610, permanent, one request, no failover to Vonage.
  const before = fakes.requests({ provider: 'twilio', operation: 'sendSms' }).length;
  const vonageBefore = fakes.requests({ provider: 'vonage' }).length;
  const elsewhere = await call(otherTenant, 'twilio', 'sendSms', { to: number, body: 'Your booking is confirmed' });
  expect(elsewhere.json.status).toBe('failed');
  expect((elsewhere.json.error as { message: string; type: string }).message).toMatch(/400 21610: Attempt to send to unsubscribed recipient/);
  expect((elsewhere.json.error as { type: string }).type).toBe('ProviderRejected');
  expect(fakes.requests({ provider: 'twilio', operation: 'sendSms' }).length - before).toBe(1);
  expect(fakes.requests({ provider: 'vonage' }).length).toBe(vonageBefore);

  await inboundSms(tenant, number, 'Start');
  expect((await call(tenant, 'twilio', 'sendSms', { to: number, body: 'Welcome back' })).json.status).toBe('completed');
});

test('hostile recipients: NUL and odd unicode neither crash the check nor slip past it', async () => {
  await inboundSms(tenant, '+14155550177', 'UNSUBSCRIBE');
  const nul = await call(tenant, 'twilio', 'sendSms', { to: '+1415555\u00000177', body: 'x' });
  expect(nul.status).toBeLessThan(500);
  const spaced = await call(tenant, 'twilio', 'sendSms', { to: '+1 (415) 555-0177', body: 'x' });
  expect(spaced.status).toBe(422);
  const fullwidth = await call(tenant, 'sendgrid', 'sendMail', mail('ｕｎｓｕｂ@example.com'));
  expect(fullwidth.status).toBe(400);
});
