/**
 * The Temporal payload codec: every payload Switchyard's processes send to the server (workflow
 * arguments, results, signals, queries, updates, activity inputs and results, memos) leaves as
 * AES-256-GCM ciphertext, so event bodies, call arguments and results are never stored in
 * plaintext by the Temporal server. The whole Payload (metadata and data) is sealed; what the
 * server sees is `encoding: binary/encrypted`, the key id, and the sealed bytes
 * `iv(12) ‖ ciphertext ‖ tag(16)`. The key id and encoding are bound as additional data, so
 * relabelling a payload with another key id fails authentication too.
 *
 * Rotation: the keyring's first key encrypts, every configured key decrypts (lib/keyring.ts).
 * Payloads written before encryption was configured pass through decode unchanged, so histories
 * of workflows started earlier still replay.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { decode, encode } from '@temporalio/common/lib/encoding';
import { temporal } from '@temporalio/proto';
import type { Keyring } from './keyring';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A payload the codec refuses to open; the message names the key id, never key material. */
export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

function additionalData(keyId: string): Buffer {
  return Buffer.from(`${ENCRYPTED_ENCODING}\0${keyId}`, 'utf8');
}

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {}

  encode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(this.seal(payloads)));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    // Inside the executor, a refused payload becomes a rejection rather than a synchronous throw.
    return new Promise((resolve) => resolve(this.open(payloads)));
  }

  private seal(payloads: Payload[]): Payload[] {
    const keyId = this.keyring.currentId;
    const key = this.keyring.keys.get(keyId)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(additionalData(keyId));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { [METADATA_ENCODING_KEY]: encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: encode(keyId) },
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
      decipher.setAAD(additionalData(keyId));
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
