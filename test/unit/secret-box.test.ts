/**
 * The envelope encryption of stored secrets (lib/security/secret-box.ts): a round trip, rotation (re-wrap
 * under the new first key, still opening with any listed key), and every way a row can be wrong
 * (unknown master key id, altered wrapped key or ciphertext, a row's box copied to another row):
 * a typed error that names no key material and no secret.
 */
import { parseKeyring, newKeyringEntry, type Keyring } from '../../lib/security/keyring';
import {
  NoKeyringError,
  openSecret,
  rewrapSecret,
  sealSecret,
  secretContext,
  SecretTamperedError,
  UnknownMasterKeyError,
  type SealedSecret,
} from '../../lib/security/secret-box';

function keyring(...entries: string[]): Keyring {
  const parsed = parseKeyring(entries.join(','));
  if (!('keyring' in parsed)) throw new Error(parsed.problems.join('; '));
  return parsed.keyring;
}

const a = newKeyringEntry('a');
const b = newKeyringEntry('b');
const ringA = keyring(a);
const ringBA = keyring(b, a);
const ringB = keyring(b);
const context = secretContext('webhook-signing-secret', 'acme', 'stripe', 'whs_1');
const secret = 'whsec_the-value-nobody-may-see';

function flipByte(buffer: Buffer, at: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

/** Neither the secret nor any key's base64 appears in the error's message or name. */
function expectNoLeak(err: unknown): void {
  const text = `${(err as Error).name} ${(err as Error).message} ${JSON.stringify(err)}`;
  expect(text).not.toContain(secret);
  for (const entry of [a, b]) expect(text).not.toContain(entry.split(':')[1]);
}

function failureOf(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

test('round trip: sealed under the current key, a fresh data key and IV each time, opened again', () => {
  const sealed = sealSecret(ringA, context, secret);
  expect(sealed.keyId).toBe('a');
  expect(sealed.ciphertext.includes(Buffer.from(secret))).toBe(false);
  expect(sealed.wrappedKey).toHaveLength(1 + 12 + 16 + 32);
  expect(openSecret(ringA, context, sealed)).toBe(secret);
  const again = sealSecret(ringA, context, secret);
  expect(again.wrappedKey.equals(sealed.wrappedKey)).toBe(false);
  expect(again.ciphertext.equals(sealed.ciphertext)).toBe(false);
  expect(openSecret(ringA, context, sealSecret(ringA, context, ''))).toBe('');
});

test('rotation: re-wrapped under the new first key with the ciphertext unchanged; any listed key opens', () => {
  const sealed = sealSecret(ringA, context, secret);
  expect(openSecret(ringBA, context, sealed)).toBe(secret); // the old key still opens during the rotation
  const rewrapped = rewrapSecret(ringBA, context, sealed);
  expect(rewrapped.keyId).toBe('b');
  expect(rewrapped.ciphertext.equals(sealed.ciphertext)).toBe(true);
  expect(rewrapped.wrappedKey.equals(sealed.wrappedKey)).toBe(false);
  expect(openSecret(ringB, context, rewrapped)).toBe(secret); // the old key can now be removed
  expect(sealSecret(ringBA, context, secret).keyId).toBe('b');
});

test('an unknown master key id: UnknownMasterKeyError naming the id only', () => {
  const sealed = sealSecret(ringA, context, secret);
  for (const run of [() => openSecret(ringB, context, sealed), () => rewrapSecret(ringB, context, sealed)]) {
    const err = failureOf(run);
    expect(err).toBeInstanceOf(UnknownMasterKeyError);
    expect(err).toMatchObject({ problem: 'unknown_master_key', keyId: 'a' });
    expect((err as Error).message).toMatch(/master key "a", which SECRETS_MASTER_KEYS does not list/);
    expectNoLeak(err);
  }
});

test('altered wrapped key, altered ciphertext, a relabelled key id: SecretTamperedError', () => {
  const sealed = sealSecret(ringBA, context, secret);
  const cases: Array<[string, SealedSecret]> = [
    ['wrapped key', { ...sealed, wrappedKey: flipByte(sealed.wrappedKey, 20) }],
    ['wrapped key', { ...sealed, wrappedKey: flipByte(sealed.wrappedKey, 40) }],
    ['wrapped key', { ...sealed, wrappedKey: sealed.wrappedKey.subarray(0, 10) }],
    ['ciphertext', { ...sealed, ciphertext: flipByte(sealed.ciphertext, sealed.ciphertext.length - 1) }],
    ['ciphertext', { ...sealed, ciphertext: flipByte(sealed.ciphertext, 5) }],
    ['wrapped key', { ...sealed, keyId: 'a' }],
  ];
  for (const [part, altered] of cases) {
    const err = failureOf(() => openSecret(ringBA, context, altered));
    expect(err).toBeInstanceOf(SecretTamperedError);
    expect((err as Error).message).toContain(`${part} altered`);
    expectNoLeak(err);
    // Rotation opens the whole secret first: an altered row is reported, never re-wrapped.
    expect(failureOf(() => rewrapSecret(ringBA, context, altered))).toBeInstanceOf(SecretTamperedError);
  }
});

test('a box copied to another row (other tenant, source or id) does not open there', () => {
  const sealed = sealSecret(ringA, context, secret);
  for (const other of [
    secretContext('webhook-signing-secret', 'other', 'stripe', 'whs_1'),
    secretContext('webhook-signing-secret', 'acme', 'github', 'whs_1'),
    secretContext('webhook-signing-secret', 'acme', 'stripe', 'whs_2'),
    secretContext('subscriber-signing-secret', 'acme', 'whs_1'),
  ]) {
    expect(failureOf(() => openSecret(ringA, other, sealed))).toBeInstanceOf(SecretTamperedError);
  }
  // The data key of one row with the ciphertext of another does not open either.
  const second = sealSecret(ringA, context, 'another value');
  expect(failureOf(() => openSecret(ringA, context, { ...sealed, ciphertext: second.ciphertext }))).toBeInstanceOf(SecretTamperedError);
  // Context parts are encoded unambiguously.
  expect(secretContext('k', 'a:b', 'c')).not.toBe(secretContext('k', 'a', 'b:c'));
});

test('without SECRETS_MASTER_KEYS nothing is sealed or opened', () => {
  expect(failureOf(() => sealSecret(undefined, context, secret))).toBeInstanceOf(NoKeyringError);
  expect(failureOf(() => openSecret(undefined, context, sealSecret(ringA, context, secret)))).toBeInstanceOf(NoKeyringError);
});
