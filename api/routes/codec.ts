/**
 * The codec endpoint for the Temporal Web UI (its "codec server"): `POST /codec/decode` turns the
 * encrypted payloads the UI shows into readable ones, `POST /codec/encode` seals what an operator
 * types into the UI (signal or query arguments). Same credentials and authorization as the rest of
 * the service API (payloads:decode, operators and admins), so the UI must pass the signed-in user's
 * token (TEMPORAL_CODEC_PASS_ACCESS_TOKEN) and that token must be one this API accepts (AUTH_JWKS_URL
 * of the UI's identity provider). CORS for these two routes allows only TEMPORAL_UI_URL's origin
 * (api/app.ts). Bodies use the UI's wire form: `{"payloads":[{"metadata":{k: base64}, "data": base64}]}`.
 *
 * Tenants: every sealed payload names its owner, bound into its authentication (lib/security/payload-codec.ts).
 * Decode opens a payload only when it is the caller's: owner `tenant:{caller's tenant}`, or
 * `subscriber:{id}` of a subscriber of the caller's tenant (deliveries); `system` payloads (probes,
 * SLA, alerts, alert SMS, retention) and those sealed before owners existed (which may be any
 * tenant's) only with payloads:decode-system (admins). The answer is per payload, in order: a
 * payload the caller may not open comes back exactly as sent, still sealed, so the UI shows the
 * rest of a history instead of failing it whole, and nothing of the other payload is revealed.
 * A payload of the caller's that fails authentication (tampered, relabelled to the caller, an
 * unknown key id) is a 400 with the reason. Encode seals for the caller's tenant.
 */
import cors from 'cors';
import type { Request, RequestHandler, Response } from 'express';
import type { Payload } from '@temporalio/common';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import { subscriberIdsOfTenant } from '../../lib/data/subscribers';
import { AesGcmPayloadCodec, claimedOwner, PayloadDecryptionError, SYSTEM_OWNER, tenantOwner } from '../../lib/security/payload-codec';
import { formatIssues } from '../../lib/zod-issues';
import { roleMay } from '../access';
import { principalOf, type Principal } from '../auth';
import { sendError } from '../errors';
import { answer, defineRoute, failure, routeGroup } from '../route';
import { codecBody, type CodecBody } from '../schemas';

export interface CodecRouteDeps {
  config: Config;
  pool: Pool;
}

/** Base64 text of the wire form ↔ bytes. */
function fromWire(payload: CodecBody['payloads'][number]): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
    data: new Uint8Array(Buffer.from(payload.data ?? '', 'base64')),
  };
}

function toWire(payload: Payload): CodecBody['payloads'][number] {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

/**
 * CORS for the codec routes: only the Temporal Web UI's origin, with the headers it sends. Mounted
 * ahead of authentication so the browser's preflight (which carries no credential) is answered.
 */
export function codecCors(config: Config): RequestHandler {
  return cors({
    origin: [new URL(config.TEMPORAL_UI_URL).origin],
    methods: ['POST'],
    allowedHeaders: ['authorization', 'content-type', 'x-namespace'],
    credentials: true,
    maxAge: 600,
  });
}

/** Which of these sealed payloads the caller may open (see the header); one query for the subscribers they name. */
async function openableBy(principal: Principal, payloads: Payload[], pool: Pool): Promise<boolean[]> {
  const owners = payloads.map(claimedOwner);
  const subscriberIds = [...new Set(owners.flatMap((owner) => (owner?.startsWith('subscriber:') ? [owner.slice('subscriber:'.length)] : [])))];
  const ofCaller = new Set<string>();
  if (subscriberIds.length > 0) {
    for (const id of await subscriberIdsOfTenant(pool, principal.tenant, subscriberIds)) ofCaller.add(`subscriber:${id}`);
  }
  const mine = tenantOwner(principal.tenant);
  const systemWide = roleMay(principal.role, 'payloads:decode-system');
  return owners.map((owner) => {
    if (owner === undefined) return true; // not sealed: passes through as is
    if (owner === null || owner === SYSTEM_OWNER) return systemWide;
    return owner === mine || ofCaller.has(owner);
  });
}

/** What both codec routes share: the keyring's codec (none without PAYLOAD_ENCRYPTION_KEYS) and one handler per direction. */
export function codecContext({ config, pool }: CodecRouteDeps) {
  const keyring = config.PAYLOAD_ENCRYPTION_KEYS;
  const codec = keyring ? new AesGcmPayloadCodec(keyring) : undefined;

  const handle = (direction: 'encode' | 'decode') => async (req: Request, res: Response) => {
    if (!codec) return sendError(res, 503, 'encryption_off', 'payload encryption is not configured (PAYLOAD_ENCRYPTION_KEYS): there is nothing to decode');
    // The pinned Temporal CLI (`temporal workflow show --codec-endpoint`) sends an empty one: no namespace named.
    const namespace = req.get('x-namespace') || undefined;
    if (namespace !== undefined && namespace !== config.TEMPORAL_NAMESPACE) {
      return sendError(res, 400, 'invalid_request', `X-Namespace: this codec serves namespace "${config.TEMPORAL_NAMESPACE}" only`);
    }
    const parsed = codecBody.safeParse(req.body);
    if (!parsed.success) return sendError(res, 400, 'invalid_request', formatIssues(parsed.error, { root: 'body' }).join('; '));
    const principal = principalOf(res)!;
    try {
      const payloads = parsed.data.payloads.map(fromWire);
      if (direction === 'encode') {
        res.json({ payloads: (await codec.sealFor(tenantOwner(principal.tenant), payloads)).map(toWire) });
        return;
      }
      const openable = await openableBy(principal, payloads, pool);
      const out = await Promise.all(payloads.map(async (payload, i) => (openable[i] ? (await codec.decode([payload]))[0]! : payload)));
      res.json({ payloads: out.map(toWire) });
    } catch (err) {
      if (err instanceof PayloadDecryptionError) return sendError(res, 400, 'undecryptable_payload', err.message);
      throw err;
    }
  };

  return { decode: handle('decode'), encode: handle('encode') };
}

const route = defineRoute<ReturnType<typeof codecContext>>();
const namespaceHeader = { 'X-Namespace': 'optional: must be the configured namespace' };

export const decodePayloads = route({
  method: 'POST',
  path: '/codec/decode',
  permission: 'payloads:decode',
  summary:
    "Codec endpoint of the Temporal Web UI: decrypt the caller's tenant's workflow payloads; system and pre-owner ones need payloads:decode-system (CORS: TEMPORAL_UI_URL only)",
  tag: 'session',
  body: codecBody,
  bodyLimit: '4mb',
  headers: namespaceHeader,
  responses: {
    200: answer("the payloads in order, decrypted; unencrypted ones and those the caller may not open (another tenant's) unchanged", codecBody),
    400: failure('malformed body, unknown key id or tampered payload (nothing decoded)'),
    503: failure('payload encryption is not configured'),
  },
  handler: (req: Request, res: Response, { decode }) => decode(req, res),
});

export const encodePayloads = route({
  method: 'POST',
  path: '/codec/encode',
  permission: 'payloads:decode',
  summary: "Codec endpoint of the Temporal Web UI: encrypt payloads under the current key, for the caller's tenant",
  tag: 'session',
  body: codecBody,
  bodyLimit: '4mb',
  headers: namespaceHeader,
  responses: { 200: answer('the payloads, encrypted', codecBody), 400: failure('malformed body'), 503: failure('payload encryption is not configured') },
  handler: (req: Request, res: Response, { encode }) => encode(req, res),
});

export const codecRoutes = routeGroup({ context: codecContext, routes: [decodePayloads, encodePayloads] });
