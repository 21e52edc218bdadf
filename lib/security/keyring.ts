/**
 * Keyrings of AES-256 keys with ids, for the payload codec (PAYLOAD_ENCRYPTION_KEYS) and the
 * secrets master keys (SECRETS_MASTER_KEYS). Written as comma-separated `id:base64` entries, the
 * first one current: it encrypts, every listed key decrypts. Rotation is therefore: put the new
 * key first and keep the old one after it until nothing encrypted under it is left.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Keyring {
  /** The id of the key that encrypts. */
  currentId: string;
  /** Every key that decrypts, by id. */
  keys: ReadonlyMap<string, Buffer>;
}

export const keyIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
const KEY_BYTES = 32;

/**
 * Parses `id:base64[,id:base64…]`. Problems are returned, never the key material: a message names
 * the entry by its position and id only.
 */
export function parseKeyring(value: string): { keyring: Keyring } | { problems: string[] } {
  const problems: string[] = [];
  const keys = new Map<string, Buffer>();
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) problems.push('no key: expected id:base64-key[,id:base64-key…]');
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    const where = `entry ${index + 1}${id ? ` ("${id}")` : ''}`;
    if (!keyIdPattern.test(id)) {
      problems.push(`${where}: expected id:base64-key with an id of letters, digits, ".", "_" or "-"`);
      return;
    }
    const material = entry.slice(colon + 1);
    const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(material) ? Buffer.from(material, 'base64') : Buffer.alloc(0);
    if (key.length !== KEY_BYTES) problems.push(`${where}: the key must be ${KEY_BYTES} bytes in base64 (openssl rand -base64 32)`);
    else if (keys.has(id)) problems.push(`${where}: duplicate key id`);
    else keys.set(id, key);
  });
  if (problems.length > 0) return { problems };
  return { keyring: { currentId: entries[0]!.slice(0, entries[0]!.indexOf(':')), keys } };
}

/** A new keyring entry `id:base64` with a random key. */
export function newKeyringEntry(id: string): string {
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/**
 * For local runs on the embedded defaults: the keyring file at `file`, created (mode 0600, one
 * random key) when missing. Returns whether it was created.
 */
export function ensureLocalKeyringFile(file: string, keyId: string): boolean {
  if (existsSync(file)) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${newKeyringEntry(keyId)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return true;
}
