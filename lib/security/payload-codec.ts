/**
 * The Temporal payload codec: every payload Switchyard's processes send to the server (workflow
 * arguments, results, signals, queries, updates, activity inputs and results, memos) leaves as
 * AES-256-GCM ciphertext, so event bodies, call arguments and results are never stored in
 * plaintext by the Temporal server. The whole Payload (metadata and data) is sealed; what the
 * server sees is `encoding: binary/encrypted`, the key id, the owner, and the sealed bytes
 * `iv(12) ‖ ciphertext ‖ tag(16)`. Encoding, key id and owner are bound as additional data, so
 * relabelling a payload with another key id or another owner fails authentication.
 *
 * The owner (metadata `encryption-owner`) is whose data the payload is, taken from the
 * SerializationContext the SDK (1.24) hands the codec: the workflow id of a workflow's payloads
 * (client starts, signals, queries, updates, memos, results, failures, child starts) and the
 * scheduling workflow's id of an activity's or local activity's. From that id:
 * - `webhook|call|booking|batch:{tenant}:…` → `tenant:{tenant}`;
 * - `delivery:{subscriber}:…` → `subscriber:{subscriber}` (the id holds no tenant; the codec
 *   endpoint looks up the subscriber's, api/routes/codec.ts);
 * - anything else (probes, SLA, alerts, retention, cost anomaly, `call:system:…` alert SMS, a
 *   workflow task's own failure, which the SDK encodes without a context) → `system`.
 * `system` is a reserved tenant name (lib/security/tenant-name.ts), so no tenant's id maps to it.
 * The worker and clients open every owner's payloads (they hold the keys and run every tenant's
 * work); the owner is what the codec endpoint for people checks before it opens anything.
 *
 * Rotation: the keyring's first key encrypts, every configured key decrypts (lib/security/keyring.ts).
 * Payloads written before encryption was configured pass through decode unchanged, and payloads
 * sealed before owners existed (no `encryption-owner`, additional data without it) still open,
 * so histories of workflows started earlier still replay; they count as `system` for the endpoint.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec, type SerializationContext } from '@temporalio/common';
import { decode, encode } from '@temporalio/common/lib/encoding';
import { temporal } from '@temporalio/proto';
import type { Keyring } from './keyring';
import { tenantPattern } from './tenant-name';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const OWNER_METADATA = 'encryption-owner';
/** The owner of payloads that are no tenant's (and, for the codec endpoint, of payloads sealed before owners). */
export const SYSTEM_OWNER = 'system';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A payload the codec refuses to open; the message names the key id, never key material. */
export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

/** Without an owner: the form of payloads sealed before owners existed. */
function additionalData(keyId: string, owner: string | undefined): Buffer {
  return Buffer.from(owner === undefined ? `${ENCRYPTED_ENCODING}\0${keyId}` : `${ENCRYPTED_ENCODING}\0${keyId}\0${owner}`, 'utf8');
}

const tenantWorkflowKinds = new Set(['webhook', 'call', 'booking', 'batch']);
const subscriberIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

export function tenantOwner(tenant: string): string {
  if (!tenantPattern.test(tenant)) throw new RangeError(`"${tenant.slice(0, 80)}" is not a tenant name: nothing is sealed for it`);
  return `tenant:${tenant}`;
}

export function subscriberOwner(subscriberId: string): string {
  return `subscriber:${subscriberId}`;
}

/** Whose data a workflow's payloads are, from its id (see the header). */
export function ownerOfWorkflowId(workflowId: string | undefined): string {
  const [kind, second] = (workflowId ?? '').split(':');
  if (kind && second !== undefined && tenantWorkflowKinds.has(kind) && tenantPattern.test(second)) return tenantOwner(second);
  if (kind === 'delivery' && second !== undefined && subscriberIdPattern.test(second)) return subscriberOwner(second);
  return SYSTEM_OWNER;
}

/** The owner the SDK's context implies: the workflow's, or the scheduling workflow's for an activity. */
export function ownerOfContext(context: SerializationContext | undefined): string {
  return ownerOfWorkflowId(context?.workflowId);
}

const ownerPattern = /^(system|tenant:[a-z0-9][a-z0-9_-]{0,62}|subscriber:[A-Za-z0-9_-]{1,64})$/;

/**
 * The owner a sealed payload claims (checked by authentication only once it is opened): a label,
 * `null` for one sealed before owners existed, `undefined` for a payload that is not sealed.
 */
export function claimedOwner(payload: Payload): string | null | undefined {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  if (!encoding || decode(encoding) !== ENCRYPTED_ENCODING) return undefined;
  const owner = payload.metadata?.[OWNER_METADATA];
  return owner ? decode(owner) : null;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {}

  /** Seals for the owner the context names (`system` without a context). */
  encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    return this.sealFor(ownerOfContext(context), payloads);
  }

  /** Opens payloads of every owner: workers and clients run every tenant's work. */
  decode(payloads: Payload[]): Promise<Payload[]> {
    // Inside the executor, a refused payload becomes a rejection rather than a synchronous throw.
    return new Promise((resolve) => resolve(this.open(payloads)));
  }

  /** Seals for an explicit owner (`tenantOwner(…)`, `SYSTEM_OWNER`), e.g. what a person encodes through the codec endpoint. */
  sealFor(owner: string, payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(this.seal(owner, payloads)));
  }

  private seal(owner: string, payloads: Payload[]): Payload[] {
    if (!ownerPattern.test(owner)) throw new RangeError(`"${owner.slice(0, 80)}" is not a payload owner`);
    const keyId = this.keyring.currentId;
    const key = this.keyring.keys.get(keyId)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(additionalData(keyId, owner));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { [METADATA_ENCODING_KEY]: encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: encode(keyId), [OWNER_METADATA]: encode(owner) },
        data: new Uint8Array(sealed),
      };
    });
  }

  private open(payloads: Payload[]): Payload[] {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const rawKeyId = payload.metadata?.[KEY_ID_METADATA];
      if (!rawKeyId) throw new PayloadDecryptionError(`encrypted payload without the ${KEY_ID_METADATA} metadata`);
      const keyId = decode(rawKeyId);
      const key = this.keyring.keys.get(keyId);
      if (!key) {
        throw new PayloadDecryptionError(`payload encrypted with unknown key id "${keyId}" (configured: ${[...this.keyring.keys.keys()].join(', ')})`);
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`encrypted payload (key id "${keyId}") is truncated`);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      const owner = payload.metadata?.[OWNER_METADATA];
      decipher.setAAD(additionalData(keyId, owner ? decode(owner) : undefined));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new PayloadDecryptionError(`encrypted payload (key id "${keyId}") failed authentication: tampered with, or sealed by another key`);
      }
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/**
 * The data converter options every Switchyard client and worker is created with: the codec when
 * PAYLOAD_ENCRYPTION_KEYS is configured, nothing (the SDK's defaults) otherwise.
 */
export function payloadDataConverter(keyring: Keyring | undefined): { payloadCodecs: PayloadCodec[] } | undefined {
  return keyring ? { payloadCodecs: [new AesGcmPayloadCodec(keyring)] } : undefined;
}

/** For start-up logs: which key encrypts (never key material), or that nothing is encrypted. */
export function payloadEncryptionState(keyring: Keyring | undefined): string {
  return keyring
    ? `AES-256-GCM, key id ${keyring.currentId} (${keyring.keys.size} key${keyring.keys.size === 1 ? '' : 's'} decrypt)`
    : 'OFF: PAYLOAD_ENCRYPTION_KEYS is not set, payloads reach the Temporal server in plaintext';
}
