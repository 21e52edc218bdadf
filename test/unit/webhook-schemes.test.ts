/**
 * Every webhook signature scheme against vectors made by the provider's official library (or the
 * provider's documented vector): valid, wrong secret, tampered body, missing header, timestamps
 * outside the tolerance, rotation, and event extraction.
 */
import { createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import twilio from 'twilio';
import { genericSourceOptions, schemes, type GenericSourceOptionsInput, type InboundWebhook, type VerifyResult } from '../../api/webhook-schemes';
import { genericHmacScheme } from '../../providers/generic-hmac/webhook';
import { githubScheme } from '../../providers/github/webhook';
import { googleCalendarScheme } from '../../providers/core/google-channel-token';
import { sendgridScheme, sendgridVerificationKey } from '../../providers/sendgrid/webhook';
import { standardWebhooksScheme } from '../../providers/standard-webhooks/webhook';
import { stripeScheme } from '../../providers/stripe/webhook';
import { twilioScheme } from '../../providers/twilio/webhook';

const nowSeconds = () => Math.floor(Date.now() / 1000);

function inbound(body: string | Buffer, headers: Record<string, string | undefined>, extra: Partial<InboundWebhook> = {}): InboundWebhook {
  return { rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body), headers, url: 'https://hooks.example.com/webhooks/x', nowSeconds: nowSeconds(), ...extra };
}

function expectRefused(result: VerifyResult, reason?: RegExp): void {
  expect(result.ok).toBe(false);
  if (!result.ok) {
    expect(result.reason.length).toBeGreaterThan(0);
    if (reason) expect(result.reason).toMatch(reason);
  }
}

test('the scheme table names every scheme', () => {
  expect(Object.keys(schemes).sort()).toEqual(['github', 'google-channel-token', 'hmac', 'sendgrid', 'standard-webhooks', 'stripe', 'twilio']);
  expect(schemes['google-channel-token'].contentTypes).toEqual([]);
  expect(schemes.twilio.contentTypes).toEqual(['application/x-www-form-urlencoded']);
});

describe('stripe', () => {
  const payload = JSON.stringify({ id: 'evt_1', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1' } } });
  const options = { toleranceSeconds: 300 };
  const signed = (secret: string, timestamp = nowSeconds(), body = payload) =>
    inbound(body, { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }) });

  test('accepts the library-made signature; both rotation secrets verify', () => {
    expect(stripeScheme.verify(signed('whsec_a'), ['whsec_a'], options)).toEqual({ ok: true });
    expect(stripeScheme.verify(signed('whsec_old'), ['whsec_new', 'whsec_old'], options)).toEqual({ ok: true });
  });

  test('refuses another secret, a tampered body, a missing header and no configured secret', () => {
    expectRefused(stripeScheme.verify(signed('whsec_other'), ['whsec_a'], options), /no signatures found/i);
    expectRefused(stripeScheme.verify(signed('whsec_a', nowSeconds(), `${payload} `), ['whsec_a'], options));
    expectRefused(stripeScheme.verify(inbound(payload, {}), ['whsec_a'], options), /missing Stripe-Signature/);
    expectRefused(stripeScheme.verify(signed('whsec_a'), [], options), /no signing secret/);
  });

  test('refuses stale and future timestamps against the request clock', () => {
    const request = signed('whsec_a', 1_700_000_000);
    expect(stripeScheme.verify({ ...request, nowSeconds: 1_700_000_290 }, ['whsec_a'], options).ok).toBe(true);
    expectRefused(stripeScheme.verify({ ...request, nowSeconds: 1_700_000_301 }, ['whsec_a'], options), /tolerance/);
    expectRefused(stripeScheme.verify({ ...request, nowSeconds: 1_699_999_699 }, ['whsec_a'], options), /future/);
  });

  test('extracts one event; refuses bodies that are not Stripe events', () => {
    expect(stripeScheme.extract(inbound(payload, {}), options)).toEqual({
      ok: true,
      events: [{ eventId: 'evt_1', eventType: 'payment_intent.succeeded', payload: JSON.parse(payload) as unknown }],
    });
    expect(stripeScheme.extract(inbound('not json', {}), options)).toMatchObject({ ok: false, reason: /not valid JSON/ });
    const badId = stripeScheme.extract(inbound(JSON.stringify({ id: 'evt 1/2', type: 't', data: { object: {} } }), {}), options);
    expect(badId).toMatchObject({ ok: false, fields: { id: expect.any(String) as unknown } });
  });

  test('the reason never contains the secret', () => {
    expect(JSON.stringify(stripeScheme.verify(signed('whsec_other'), ['whsec_supersecret'], options))).not.toContain('supersecret');
  });
});

describe('twilio', () => {
  const authToken = '12345678901234567890123456789012';
  const url = 'https://hooks.example.com/webhooks/twilio?tenant=acme';
  const params = { MessageSid: 'SM0123456789abcdef', MessageStatus: 'delivered', To: '+15551230000', Body: 'Hello & goodbye, café' };
  const body = new URLSearchParams(params).toString();
  const signedBy = (token: string, form = body) =>
    inbound(form, { 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, params) }, { url });

  test('accepts the library-made signature; both auth tokens verify during a rotation', () => {
    expect(twilioScheme.verify(signedBy(authToken), [authToken], {})).toEqual({ ok: true });
    expect(twilioScheme.verify(signedBy(authToken), ['another-token', authToken], {})).toEqual({ ok: true });
  });

  test('refuses another token, tampered parameters, another URL and a missing header', () => {
    expectRefused(twilioScheme.verify(signedBy('another-token'), [authToken], {}), /does not match/);
    expectRefused(twilioScheme.verify(signedBy(authToken, body.replace('delivered', 'failed')), [authToken], {}));
    expectRefused(twilioScheme.verify({ ...signedBy(authToken), url: 'https://hooks.example.com/webhooks/twilio' }, [authToken], {}));
    expectRefused(twilioScheme.verify(inbound(body, {}, { url }), [authToken], {}), /missing X-Twilio-Signature/);
    expectRefused(twilioScheme.verify({ ...signedBy(authToken), url: 'not a url' }, [authToken], {}), /URL/);
  });

  test('extracts message status callbacks, inbound messages and call callbacks', () => {
    expect(twilioScheme.extract(inbound(body, {}), {})).toEqual({
      ok: true,
      events: [{ eventId: 'SM0123456789abcdef:delivered', eventType: 'message.delivered', payload: params }],
    });
    const inboundSms = twilioScheme.extract(inbound('SmsSid=SM1&From=%2B1555&Body=hi', {}), {});
    expect(inboundSms).toMatchObject({ ok: true, events: [{ eventId: 'SM1:received', eventType: 'message.received' }] });
    const call = twilioScheme.extract(inbound('CallSid=CA1&CallStatus=in-progress', {}), {});
    expect(call).toMatchObject({ ok: true, events: [{ eventId: 'CA1:in-progress', eventType: 'call.in-progress' }] });
  });

  test('sanitises ids to the id charset and refuses a body without a sid', () => {
    const odd = twilioScheme.extract(inbound('MessageSid=SM%2F1&MessageStatus=very+odd', {}), {});
    expect(odd).toMatchObject({ ok: true, events: [{ eventId: 'SM_1:very_odd', eventType: 'message.very_odd' }] });
    expect(twilioScheme.extract(inbound('MessageStatus=sent', {}), {})).toMatchObject({ ok: false, reason: /MessageSid/ });
  });
});

describe('sendgrid', () => {
  const options = { toleranceSeconds: 300 };
  const keyPair = () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    return { verificationKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), privateKey };
  };
  const current = keyPair();
  const previous = keyPair();
  const events = [
    { email: 'a@example.com', event: 'delivered', sg_event_id: 'ZGVsaXZlcmVk-0_a', timestamp: 1 },
    { email: 'b@example.com', event: 'open', sg_event_id: 'b3Blbg', timestamp: 2 },
    { email: 'c@example.com', event: 'bounce', sg_event_id: 'Ym91bmNl', reason: 'café closed', timestamp: 3 },
  ];
  const payload = JSON.stringify(events);
  /** Signed as SendGrid does and as @sendgrid/eventwebhook verifies: ECDSA P-256/SHA-256 over timestamp + body, DER, base64. */
  const signed = (privateKey: KeyObject, timestamp = String(nowSeconds()), body = payload) =>
    inbound(body, {
      'x-twilio-email-event-webhook-signature': sign('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(payload)]), privateKey).toString('base64'),
      'x-twilio-email-event-webhook-timestamp': timestamp,
    });

  test('accepts a signature by the verification key; both keys verify during a rotation', () => {
    expect(sendgridScheme.verify(signed(current.privateKey), [current.verificationKey], options)).toEqual({ ok: true });
    expect(sendgridScheme.verify(signed(previous.privateKey), [current.verificationKey, previous.verificationKey], options)).toEqual({ ok: true });
  });

  test('refuses another key, a tampered body, missing headers and a bad signature or key', () => {
    expectRefused(sendgridScheme.verify(signed(previous.privateKey), [current.verificationKey], options), /does not match/);
    expectRefused(sendgridScheme.verify(signed(current.privateKey, undefined, payload.replace('open', 'click')), [current.verificationKey], options));
    const request = signed(current.privateKey);
    expectRefused(
      sendgridScheme.verify({ ...request, headers: { ...request.headers, 'x-twilio-email-event-webhook-signature': undefined } }, [current.verificationKey], options),
      /missing X-Twilio-Email-Event-Webhook-Signature/,
    );
    expectRefused(
      sendgridScheme.verify({ ...request, headers: { ...request.headers, 'x-twilio-email-event-webhook-timestamp': undefined } }, [current.verificationKey], options),
      /missing X-Twilio-Email-Event-Webhook-Timestamp/,
    );
    expectRefused(
      sendgridScheme.verify({ ...request, headers: { ...request.headers, 'x-twilio-email-event-webhook-signature': 'bm90IGRlcg==' } }, [current.verificationKey], options),
      /signature/,
    );
    expectRefused(sendgridScheme.verify(request, ['not-a-key'], options), /valid ECDSA public key/);
  });

  test('a verification key as a PEM file holds it, or base64 DER, with whitespace and LF or CRLF line ends, verifies', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString(); // ends with "\n", as every PEM file
    const der = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const forms = {
      'PEM (LF, final newline)': pem,
      'PEM (CRLF)': pem.replace(/\n/g, '\r\n'),
      'PEM with blank lines and indentation around it': `\n\n  ${pem}\n  \r\n`,
      'PEM with indented lines': pem.split('\n').map((line) => `   ${line}`).join('\n'),
      'base64 DER with a final newline': `${der}\n`,
      'base64 DER wrapped at 64 with CRLF': `${der.match(/.{1,64}/g)!.join('\r\n')}\r\n`,
      'base64 DER with spaces and tabs': ` \t${der.slice(0, 30)} ${der.slice(30)}\t `,
    };
    for (const [form, key] of Object.entries(forms)) {
      expect([form, sendgridVerificationKey(key)]).toEqual([form, der]);
      expect([form, sendgridScheme.verify(signed(privateKey), [key], options)]).toEqual([form, { ok: true }]);
      // A signature by another key still fails against it.
      expectRefused(sendgridScheme.verify(signed(current.privateKey), [key], options), /does not match/);
    }
  });

  test('what is not a P-256 public key is no verification key, whatever its form', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const pem = current.verificationKey.match(/.{1,64}/g)!.join('\n');
    for (const key of [rsa, p384, '', '  \n', 'not-a-key', `-----BEGIN PUBLIC KEY-----\n${pem}\n`, `-----BEGIN PRIVATE KEY-----\n${pem}\n-----END PRIVATE KEY-----\n`, `${current.verificationKey}!`]) {
      expect([key, sendgridVerificationKey(key)]).toEqual([key, null]);
    }
    expectRefused(sendgridScheme.verify(signed(current.privateKey), [rsa], options), /valid ECDSA public key/);
  });

  test('refuses stale and future timestamps', () => {
    const request = signed(current.privateKey, '1700000000');
    expect(sendgridScheme.verify({ ...request, nowSeconds: 1_700_000_299 }, [current.verificationKey], options).ok).toBe(true);
    expectRefused(sendgridScheme.verify({ ...request, nowSeconds: 1_700_000_301 }, [current.verificationKey], options), /older/);
    expectRefused(sendgridScheme.verify({ ...request, nowSeconds: 1_699_999_699 }, [current.verificationKey], options), /future/);
  });

  test('a batch becomes one event per item', () => {
    const result = sendgridScheme.extract(inbound(payload, {}), options);
    expect(result).toEqual({
      ok: true,
      events: events.map((event) => ({ eventId: event.sg_event_id, eventType: event.event, payload: event })),
    });
  });

  test('refuses bodies that are not a batch of events', () => {
    expect(sendgridScheme.extract(inbound(JSON.stringify(events[0]), {}), options).ok).toBe(false);
    expect(sendgridScheme.extract(inbound('[]', {}), options).ok).toBe(false);
    expect(sendgridScheme.extract(inbound('[{', {}), options)).toMatchObject({ ok: false, reason: /not valid JSON/ });
    const missingId = sendgridScheme.extract(inbound(JSON.stringify([events[0], { event: 'open' }]), {}), options);
    expect(missingId).toMatchObject({ ok: false, fields: { '1.sg_event_id': expect.any(String) as unknown } });
  });
});

describe('standard webhooks', () => {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const otherSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const payload = JSON.stringify({ type: 'invoice.paid', timestamp: '2024-01-01T00:00:00Z', data: { id: 'inv_1' } });
  const signed = (signingSecret: string, timestamp = nowSeconds(), body = payload) =>
    inbound(body, {
      'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': new Webhook(signingSecret).sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', new Date(timestamp * 1000), payload),
    });

  test('accepts the library-made signature, any of several signatures, and either rotation secret', () => {
    expect(standardWebhooksScheme.verify(signed(secret), [secret], {})).toEqual({ ok: true });
    const request = signed(secret);
    const several = { ...request.headers, 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} ${request.headers['webhook-signature']}` };
    expect(standardWebhooksScheme.verify({ ...request, headers: several }, [secret], {})).toEqual({ ok: true });
    expect(standardWebhooksScheme.verify(signed(otherSecret), [secret, otherSecret], {})).toEqual({ ok: true });
  });

  test('refuses another secret, a tampered body, missing headers and unusable secrets', () => {
    expectRefused(standardWebhooksScheme.verify(signed(otherSecret), [secret], {}), /No matching signature/);
    expectRefused(standardWebhooksScheme.verify(signed(secret, nowSeconds(), `${payload} `), [secret], {}));
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const request = signed(secret);
      expectRefused(standardWebhooksScheme.verify({ ...request, headers: { ...request.headers, [name]: undefined } }, [secret], {}), new RegExp(`missing ${name}`));
    }
    expectRefused(standardWebhooksScheme.verify(signed(secret), ['whsec_%%%'], {}), /valid Standard Webhooks secret/);
  });

  test('refuses timestamps more than five minutes stale or in the future', () => {
    expectRefused(standardWebhooksScheme.verify(signed(secret, nowSeconds() - 301), [secret], {}), /too old/);
    expectRefused(standardWebhooksScheme.verify(signed(secret, nowSeconds() + 301), [secret], {}), /too new/);
    expect(standardWebhooksScheme.verify(signed(secret, nowSeconds() - 290), [secret], {}).ok).toBe(true);
  });

  test('extracts the message id and type; refuses bodies without a type', () => {
    expect(standardWebhooksScheme.extract(signed(secret), {})).toEqual({
      ok: true,
      events: [{ eventId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', eventType: 'invoice.paid', payload: JSON.parse(payload) as unknown }],
    });
    expect(standardWebhooksScheme.extract(inbound('{"data":{}}', { 'webhook-id': 'msg_1' }), {})).toMatchObject({ ok: false, fields: { type: expect.any(String) as unknown } });
    expect(standardWebhooksScheme.extract(inbound(payload, { 'webhook-id': 'msg 1' }), {}).ok).toBe(false);
  });

  test('the reason never contains a secret', () => {
    expect(JSON.stringify(standardWebhooksScheme.verify(signed(otherSecret), [secret], {}))).not.toContain(secret.slice(6));
  });
});

describe('github', () => {
  // GitHub's documented vector: https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries
  const secret = "It's a Secret to Everybody";
  const documented = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
  const signedHello = (header = documented, body = 'Hello, World!') => inbound(body, { 'x-hub-signature-256': header });

  test('accepts the documented vector; both rotation secrets verify', () => {
    expect(githubScheme.verify(signedHello(), [secret], {})).toEqual({ ok: true });
    expect(githubScheme.verify(signedHello(), ['the new secret', secret], {})).toEqual({ ok: true });
  });

  test('refuses another secret, a tampered body, a missing or malformed header', () => {
    expectRefused(githubScheme.verify(signedHello(), ['another secret'], {}), /does not match/);
    expectRefused(githubScheme.verify(signedHello(documented, 'Hello, World?'), [secret], {}));
    expectRefused(githubScheme.verify(inbound('Hello, World!', {}), [secret], {}), /missing X-Hub-Signature-256/);
    expectRefused(githubScheme.verify(signedHello('sha256=abc'), [secret], {}), /64 hex/);
    expectRefused(githubScheme.verify(signedHello(documented.replace('sha256=', 'sha1=')), [secret], {}));
  });

  test('extracts delivery id and event.action', () => {
    const headers = { 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958', 'x-github-event': 'pull_request' };
    expect(githubScheme.extract(inbound('{"action":"opened","number":1}', headers), {})).toEqual({
      ok: true,
      events: [{ eventId: headers['x-github-delivery'], eventType: 'pull_request.opened', payload: { action: 'opened', number: 1 } }],
    });
    expect(githubScheme.extract(inbound('{"zen":"Keep it simple."}', { ...headers, 'x-github-event': 'ping' }), {})).toMatchObject({
      ok: true,
      events: [{ eventType: 'ping' }],
    });
    expect(githubScheme.extract(inbound('{}', { 'x-github-event': 'ping' }), {})).toMatchObject({ ok: false, fields: { 'x-github-delivery': expect.any(String) as unknown } });
    expect(githubScheme.extract(inbound('[1]', headers), {}).ok).toBe(false);
  });
});

describe('google calendar push channels', () => {
  const headers = {
    'x-goog-channel-id': 'channel-01',
    'x-goog-channel-token': 'token-for-channel-01',
    'x-goog-channel-expiration': 'Tue, 19 Nov 2030 01:13:52 GMT',
    'x-goog-message-number': '42',
    'x-goog-resource-id': 'ret08u3rv24htgh289g',
    'x-goog-resource-state': 'exists',
    'x-goog-resource-uri': 'https://www.googleapis.com/calendar/v3/calendars/primary/events',
    'user-agent': 'APIs-Google',
  };

  test('accepts the channel token; both rotation tokens verify', () => {
    expect(googleCalendarScheme.verify(inbound('', headers), ['token-for-channel-01'], {})).toEqual({ ok: true });
    expect(googleCalendarScheme.verify(inbound('', headers), ['new-token', 'token-for-channel-01'], {})).toEqual({ ok: true });
  });

  test('refuses another token (of any length) and a missing token', () => {
    expectRefused(googleCalendarScheme.verify(inbound('', headers), ['token-for-channel-02'], {}), /matches no live/);
    expectRefused(googleCalendarScheme.verify(inbound('', headers), ['short'], {}));
    expectRefused(googleCalendarScheme.verify(inbound('', { ...headers, 'x-goog-channel-token': undefined }), ['token-for-channel-01'], {}), /missing/);
  });

  test('extracts channel:message as the id, the resource state as the type, and the headers without the token', () => {
    const result = googleCalendarScheme.extract(inbound('', headers), {});
    expect(result).toMatchObject({ ok: true, events: [{ eventId: 'channel-01:42', eventType: 'calendar.exists' }] });
    const payload = result.ok ? result.events[0]!.payload : {};
    expect(payload).toMatchObject({ 'x-goog-resource-id': 'ret08u3rv24htgh289g', 'x-goog-channel-id': 'channel-01' });
    expect(payload).not.toHaveProperty('x-goog-channel-token');
    expect(payload).not.toHaveProperty('user-agent');
    expect(googleCalendarScheme.extract(inbound('', { ...headers, 'x-goog-message-number': undefined }), {})).toMatchObject({ ok: false });
    expect(googleCalendarScheme.extract(inbound('', { ...headers, 'x-goog-channel-id': 'a b' }), {}).ok).toBe(false);
  });
});

describe('generic HMAC', () => {
  const options = (input: GenericSourceOptionsInput) => genericSourceOptions.parse(input);
  const body = JSON.stringify({ id: 1234, type: 'order.created', data: { order: { id: 'ord_9' } } });
  const hmac = (algorithm: 'sha256' | 'sha1', secret: string, payload: string) => createHmac(algorithm, secret).update(payload);

  test('validates and defaults the options', () => {
    expect(options({ header: 'X-Signature' })).toEqual({ header: 'x-signature', algorithm: 'sha256', encoding: 'hex', prefix: '', signedPayload: 'body', toleranceSeconds: 300 });
    expect(genericSourceOptions.safeParse({ header: 'X-Signature', signedPayload: 'timestamp.body' }).success).toBe(false);
    expect(genericSourceOptions.safeParse({ header: 'X Signature' }).success).toBe(false);
    expect(genericSourceOptions.safeParse({ header: 'X-Signature', algorithm: 'md5' }).success).toBe(false);
    expect(genericSourceOptions.safeParse({ header: 'X-Signature', surprise: true }).success).toBe(false);
  });

  test('a GitHub-style source (prefix, hex) verifies GitHub\'s documented vector', () => {
    const github = options({ header: 'X-Hub-Signature-256', prefix: 'sha256=' });
    const request = inbound('Hello, World!', { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' });
    expect(genericHmacScheme.verify(request, ["It's a Secret to Everybody"], github)).toEqual({ ok: true });
    expectRefused(genericHmacScheme.verify(request, ['another secret'], github), /does not match/);
  });

  test('a Shopify-style source (base64, no prefix): valid, rotation, wrong secret, tampered body, missing header', () => {
    const shopify = options({ header: 'X-Shopify-Hmac-Sha256', encoding: 'base64', eventIdHeader: 'X-Shopify-Webhook-Id' });
    const signedBy = (secret: string, payload = body) => inbound(payload, { 'x-shopify-hmac-sha256': hmac('sha256', secret, body).digest('base64') });
    expect(genericHmacScheme.verify(signedBy('shpss_new'), ['shpss_new'], shopify)).toEqual({ ok: true });
    expect(genericHmacScheme.verify(signedBy('shpss_old'), ['shpss_new', 'shpss_old'], shopify)).toEqual({ ok: true });
    expectRefused(genericHmacScheme.verify(signedBy('shpss_other'), ['shpss_new'], shopify), /does not match/);
    expectRefused(genericHmacScheme.verify(signedBy('shpss_new', `${body} `), ['shpss_new'], shopify));
    expectRefused(genericHmacScheme.verify(inbound(body, {}), ['shpss_new'], shopify), /missing x-shopify-hmac-sha256/);
    expectRefused(genericHmacScheme.verify(inbound(body, { 'x-shopify-hmac-sha256': 'AAAA' }), ['shpss_new'], shopify), /not a base64 sha256 digest/);
  });

  test('sha1 digests verify when declared', () => {
    const sha1 = options({ header: 'X-Signature', algorithm: 'sha1', prefix: 'sha1=' });
    const request = inbound(body, { 'x-signature': `sha1=${hmac('sha1', 'secret-1', body).digest('hex')}` });
    expect(genericHmacScheme.verify(request, ['secret-1'], sha1)).toEqual({ ok: true });
    expectRefused(genericHmacScheme.verify(request, ['secret-1'], options({ header: 'X-Signature', prefix: 'sha1=' })));
  });

  test('timestamp.body: signed timestamp, stale and future refused, missing timestamp refused', () => {
    const timed = options({ header: 'X-Signature', timestampHeader: 'X-Timestamp', signedPayload: 'timestamp.body', toleranceSeconds: 60 });
    const at = (timestamp: number, now: number) =>
      inbound(body, { 'x-signature': hmac('sha256', 'secret-1', `${timestamp}.${body}`).digest('hex'), 'x-timestamp': String(timestamp) }, { nowSeconds: now });
    expect(genericHmacScheme.verify(at(1_700_000_000, 1_700_000_030), ['secret-1'], timed)).toEqual({ ok: true });
    expectRefused(genericHmacScheme.verify(at(1_700_000_000, 1_700_000_061), ['secret-1'], timed), /older/);
    expectRefused(genericHmacScheme.verify(at(1_700_000_000, 1_699_999_939), ['secret-1'], timed), /future/);
    const request = at(1_700_000_000, 1_700_000_000);
    expectRefused(genericHmacScheme.verify({ ...request, headers: { ...request.headers, 'x-timestamp': '1700000001' } }, ['secret-1'], timed), /does not match/);
    expectRefused(genericHmacScheme.verify({ ...request, headers: { ...request.headers, 'x-timestamp': undefined } }, ['secret-1'], timed), /missing x-timestamp/);
  });

  test('extracts the id and type from declared fields or headers, else from the body digest', () => {
    const byField = genericHmacScheme.extract(inbound(body, {}), options({ header: 'X-Signature', eventIdField: 'id', eventTypeField: 'type' }));
    expect(byField).toEqual({ ok: true, events: [{ eventId: '1234', eventType: 'order.created', payload: JSON.parse(body) as unknown }] });
    const nested = genericHmacScheme.extract(inbound(body, {}), options({ header: 'X-Signature', eventIdField: 'data.order.id' }));
    expect(nested).toMatchObject({ ok: true, events: [{ eventId: 'ord_9', eventType: 'event' }] });
    const byHeader = genericHmacScheme.extract(inbound(body, { 'x-webhook-id': 'wh_1' }), options({ header: 'X-Signature', eventIdHeader: 'X-Webhook-Id' }));
    expect(byHeader).toMatchObject({ ok: true, events: [{ eventId: 'wh_1' }] });
    const byDigest = genericHmacScheme.extract(inbound(body, {}), options({ header: 'X-Signature' }));
    expect(byDigest).toMatchObject({ ok: true, events: [{ eventId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown }] });
  });

  test('refuses bodies without the declared fields, non-objects, and prototype paths', () => {
    const declared = options({ header: 'X-Signature', eventIdField: 'event.id', eventTypeField: 'type' });
    expect(genericHmacScheme.extract(inbound(body, {}), declared)).toMatchObject({ ok: false, fields: { 'event.id': expect.any(String) as unknown } });
    expect(genericHmacScheme.extract(inbound('[1,2]', {}), declared)).toMatchObject({ ok: false, reason: /not a JSON object/ });
    expect(genericHmacScheme.extract(inbound('{', {}), declared)).toMatchObject({ ok: false, reason: /not valid JSON/ });
    expect(genericHmacScheme.extract(inbound(Buffer.from([0x7b, 0xff, 0x7d]), {}), declared)).toMatchObject({ ok: false, reason: /UTF-8/ });
    expect(genericHmacScheme.extract(inbound('{"id":"x"}', {}), options({ header: 'X-Signature', eventIdField: 'constructor.name' })).ok).toBe(false);
  });
});
