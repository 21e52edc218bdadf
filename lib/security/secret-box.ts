/**
 * Envelope encryption for secrets stored in PostgreSQL (subscriber signing secrets, webhook
 * signing secrets, provider credentials). Each secret gets a fresh random 256-bit data key that
 * encrypts it with AES-256-GCM; the data key is itself encrypted ("wrapped") with AES-256-GCM under
 * the current master key of SECRETS_MASTER_KEYS (lib/security/keyring.ts). A row stores the master key id,
 * the wrapped key and the ciphertext, so rotating the master key re-wraps 32-byte keys and never
 * touches the ciphertexts.
 *
 * Both encryptions take the row's identity (its `context`, e.g. kind + tenant + id) as additional
 * authenticated data: a ciphertext or wrapped key copied onto another row does not open there.
 * Errors are typed and name the master key id at most: never key material, never the secret.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring';

/** What a row stores for one secret. */
export interface SealedSecret {
  /** The master key that wrapped the data key. */
  keyId: string;
  /** version(1) | iv(12) | tag(16) | AES-256-GCM(data key)(32). */
  wrappedKey: Buffer;
  /** version(1) | iv(12) | tag(16) | AES-256-GCM(secret). */
  ciphertext: Buffer;
}

const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

export type SecretBoxProblem = 'no_keyring' | 'unknown_master_key' | 'tampered';

/** A stored secret that cannot be opened (or sealed); the message never holds key material or the secret. */
export class SecretBoxError extends Error {
  constructor(
    public readonly problem: SecretBoxProblem,
    message: string,
    /** The master key id the row names, when it names one. */
    public readonly keyId?: string,
  ) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/** The row names a master key id that SECRETS_MASTER_KEYS does not list. */
export class UnknownMasterKeyError extends SecretBoxError {
  constructor(keyId: string) {
    super('unknown_master_key', `the secret is wrapped under master key "${keyId}", which SECRETS_MASTER_KEYS does not list`, keyId);
    this.name = 'UnknownMasterKeyError';
  }
}

/** Authentication failed: the wrapped key, the ciphertext or the row identity was changed (or the key id names another key). */
export class SecretTamperedError extends SecretBoxError {
  constructor(part: 'wrapped key' | 'ciphertext', keyId: string) {
    super('tampered', `the stored secret does not authenticate (${part} altered, or copied from another row)`, keyId);
    this.name = 'SecretTamperedError';
  }
}

/** SECRETS_MASTER_KEYS is not configured at all. */
export class NoKeyringError extends SecretBoxError {
  constructor() {
    super('no_keyring', 'SECRETS_MASTER_KEYS is not configured: stored secrets cannot be sealed or opened');
    this.name = 'NoKeyringError';
  }
}

/**
 * The identity a sealed secret is bound to: an unambiguous encoding of its kind and the row's key
 * (JSON of the parts, so "a:b" + "c" and "a" + "b:c" differ).
 */
export function secretContext(kind: string, ...parts: readonly string[]): string {
  return JSON.stringify(['switchyard-secret', kind, ...parts]);
}

function aad(purpose: 'wrap' | 'data', context: string, keyId?: string): Buffer {
  return Buffer.from(JSON.stringify([purpose, context, keyId ?? null]), 'utf8');
}

function encrypt(key: Buffer, plaintext: Buffer, additional: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additional);
  const encrypted = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT_VERSION]), iv, cipher.getAuthTag(), encrypted]);
}

/** The plaintext, or undefined when the blob does not authenticate (or is malformed). */
function decrypt(key: Buffer, blob: Buffer, additional: Buffer): Buffer | undefined {
  if (blob.length < HEADER_BYTES || blob[0] !== FORMAT_VERSION) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(1, 1 + IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(additional);
    decipher.setAuthTag(blob.subarray(1 + IV_BYTES, HEADER_BYTES));
    return Buffer.concat([decipher.update(blob.subarray(HEADER_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}

function requireKeyring(keyring: Keyring | undefined): Keyring {
  if (!keyring) throw new NoKeyringError();
  return keyring;
}

function wrapDataKey(keyring: Keyring, context: string, dataKey: Buffer): Pick<SealedSecret, 'keyId' | 'wrappedKey'> {
  const keyId = keyring.currentId;
  const master = keyring.keys.get(keyId)!;
  return { keyId, wrappedKey: encrypt(master, dataKey, aad('wrap', context, keyId)) };
}

function unwrapDataKey(keyring: Keyring, context: string, sealed: Pick<SealedSecret, 'keyId' | 'wrappedKey'>): Buffer {
  const master = keyring.keys.get(sealed.keyId);
  if (!master) throw new UnknownMasterKeyError(sealed.keyId);
  const dataKey = decrypt(master, sealed.wrappedKey, aad('wrap', context, sealed.keyId));
  if (!dataKey || dataKey.length !== DATA_KEY_BYTES) throw new SecretTamperedError('wrapped key', sealed.keyId);
  return dataKey;
}

/** Encrypts `value` under a fresh data key wrapped by the keyring's current master key. */
export function sealSecret(keyring: Keyring | undefined, context: string, value: string): SealedSecret {
  const ring = requireKeyring(keyring);
  const dataKey = randomBytes(DATA_KEY_BYTES);
  try {
    const ciphertext = encrypt(dataKey, Buffer.from(value, 'utf8'), aad('data', context));
    return { ...wrapDataKey(ring, context, dataKey), ciphertext };
  } finally {
    dataKey.fill(0);
  }
}

/** The secret, with any master key of the keyring; typed errors for an unknown key id or a row that does not authenticate. */
export function openSecret(keyring: Keyring | undefined, context: string, sealed: SealedSecret): string {
  const ring = requireKeyring(keyring);
  const dataKey = unwrapDataKey(ring, context, sealed);
  try {
    const plaintext = decrypt(dataKey, sealed.ciphertext, aad('data', context));
    if (!plaintext) throw new SecretTamperedError('ciphertext', sealed.keyId);
    return plaintext.toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The same secret with its data key wrapped under the current master key (the ciphertext is
 * unchanged). The whole secret is opened first, so a row whose ciphertext was altered is reported
 * rather than re-wrapped.
 */
export function rewrapSecret(keyring: Keyring | undefined, context: string, sealed: SealedSecret): SealedSecret {
  const ring = requireKeyring(keyring);
  openSecret(ring, context, sealed);
  const dataKey = unwrapDataKey(ring, context, sealed);
  try {
    return { ...wrapDataKey(ring, context, dataKey), ciphertext: sealed.ciphertext };
  } finally {
    dataKey.fill(0);
  }
}
