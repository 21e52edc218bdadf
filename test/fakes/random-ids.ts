/**
 * Random identifiers shaped like the providers' own (pi_…, SM…, base32hex event ids), so adapters
 * that validate or log ids see realistic values.
 */
import { randomBytes, randomInt } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Google Calendar event ids: lower-case base32hex. */
export const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

export function randomString(length: number, alphabet = ALPHANUMERIC): string {
  let result = '';
  for (let i = 0; i < length; i++) result += alphabet[randomInt(alphabet.length)];
  return result;
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}
