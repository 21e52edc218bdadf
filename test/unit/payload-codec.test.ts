/**
 * The keyring format and the AES-256-GCM payload codec without a server: round trip, rotation
 * (new key encrypts, old keys decrypt), pass-through of unencrypted payloads, and clear errors
 * for an unknown key id, a tampered or truncated payload and a relabelled key id; a malformed
 * keyring is a configuration error that never echoes key material. Owners: the payload names the
 * tenant (or subscriber, or `system`) its workflow id implies, relabelling it fails
 * authentication, and payloads sealed before owners existed still open.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import type { Payload, SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { loadConfig } from '../../lib/config/config';
import { newKeyringEntry, parseKeyring, type Keyring } from '../../lib/security/keyring';
import {
  AesGcmPayloadCodec,
  claimedOwner,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  ownerOfWorkflowId,
  OWNER_METADATA,
  PayloadDecryptionError,
  tenantOwner,
} from '../../lib/security/payload-codec';
import { payloadDataConverterFromKeys } from '../../client/temporal';

function ring(text: string): Keyring {
  const parsed = parseKeyring(text);
  if ('problems' in parsed) throw new Error(parsed.problems.join('; '));
  return parsed.keyring;
}

const k1 = newKeyringEntry('k1');
const k2 = newKeyringEntry('k2');
const plain: Payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"email":"ada@example.com"}') };
const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString();

describe('keyring', () => {
  test('the first entry is current; every entry decrypts', () => {
    const keyring = ring(`${k2},${k1}`);
    expect(keyring.currentId).toBe('k2');
    expect([...keyring.keys.keys()]).toEqual(['k2', 'k1']);
  });

  test.each([
    ['', /no key/],
    ['k1', /expected id:base64-key/],
    ['k1:c2hvcnQ=', /must be 32 bytes/],
    ['bad id:' + 'A'.repeat(44), /expected id:base64-key/],
    [`${k1},${k1}`, /duplicate key id/],
  ])('%j is refused: %s', (value, problem) => {
    const parsed = parseKeyring(value);
    expect('problems' in parsed && parsed.problems.join('; ')).toMatch(problem);
  });

  test('a bad keyring in the configuration names the variable, never the key', () => {
    const secretish = 'k1:' + 'Zm9v'.repeat(5);
    expect(() => loadConfig({ PAYLOAD_ENCRYPTION_KEYS: secretish })).toThrow(/PAYLOAD_ENCRYPTION_KEYS: entry 1 \("k1"\): the key must be 32 bytes/);
    try {
      loadConfig({ PAYLOAD_ENCRYPTION_KEYS: secretish });
    } catch (err) {
      expect((err as Error).message).not.toContain('Zm9v');
    }
  });

  test('NODE_ENV=production requires both keyrings', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/PAYLOAD_ENCRYPTION_KEYS: required when NODE_ENV=production[\s\S]*SECRETS_MASTER_KEYS: required/);
    expect(loadConfig({ NODE_ENV: 'production', PAYLOAD_ENCRYPTION_KEYS: k1, SECRETS_MASTER_KEYS: k2 }).PAYLOAD_ENCRYPTION_KEYS?.currentId).toBe('k1');
  });
});

describe('AesGcmPayloadCodec', () => {
  const codec = new AesGcmPayloadCodec(ring(k1));

  test('round trip; the sealed payload names its key and holds no plaintext', async () => {
    const [sealed] = await codec.encode([plain]);
    expect(text(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe('k1');
    expect(text(sealed!.data)).not.toContain('ada@example.com');
    const [opened] = await codec.decode([sealed!]);
    expect(text(opened!.data)).toBe(text(plain.data));
    expect(text(opened!.metadata!.encoding)).toBe('json/plain');
  });

  test('the same payload seals differently each time (random IV)', async () => {
    const [a, b] = await codec.encode([plain, plain]);
    expect(text(a!.data)).not.toBe(text(b!.data));
  });

  test('rotation: the new key encrypts, the old one still decrypts', async () => {
    const [old] = await codec.encode([plain]);
    const rotated = new AesGcmPayloadCodec(ring(`${k2},${k1}`));
    const [fresh] = await rotated.encode([plain]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe('k2');
    expect((await rotated.decode([old!, fresh!])).map((p) => text(p.data))).toEqual([text(plain.data), text(plain.data)]);
    await expect(codec.decode([fresh!])).rejects.toThrow(/unknown key id "k2" \(configured: k1\)/);
  });

  test('unencrypted payloads (histories from before encryption) pass through', async () => {
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  test('tampered, truncated and relabelled payloads are refused with the reason', async () => {
    const [sealed] = await codec.encode([plain]);
    const flipped = Buffer.from(sealed!.data!);
    flipped[20]! ^= 0xff;
    await expect(codec.decode([{ ...sealed, data: flipped }])).rejects.toThrow(PayloadDecryptionError);
    await expect(codec.decode([{ ...sealed, data: flipped }])).rejects.toThrow(/failed authentication/);
    await expect(codec.decode([{ ...sealed, data: sealed!.data!.subarray(0, 10) }])).rejects.toThrow(/truncated/);
    // The same key under another id: the id is authenticated data, so this fails too.
    const twin = new AesGcmPayloadCodec(ring(`${k1},other:${k1.slice(3)}`));
    const relabelled = { ...sealed, metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: Buffer.from('other') } };
    await expect(twin.decode([relabelled])).rejects.toThrow(/failed authentication/);
    const { [KEY_ID_METADATA]: _dropped, ...withoutKeyId } = sealed!.metadata!;
    await expect(codec.decode([{ ...sealed, metadata: withoutKeyId }])).rejects.toThrow(/without the encryption-key-id/);
  });

  test('the typed client builds the same codec from the keyring text', async () => {
    const converter = payloadDataConverterFromKeys(k1)!;
    const [sealed] = await converter.payloadCodecs[0]!.encode([plain]);
    expect(text((await codec.decode([sealed!]))[0]!.data)).toBe(text(plain.data));
    expect(payloadDataConverterFromKeys(undefined)).toBeUndefined();
    expect(() => payloadDataConverterFromKeys('k1:short')).toThrow(/PAYLOAD_ENCRYPTION_KEYS: entry 1/);
  });
});

describe('payload owners', () => {
  const keyring = ring(k1);
  const codec = new AesGcmPayloadCodec(keyring);
  const workflow = (workflowId: string): SerializationContext => ({ type: 'workflow', namespace: 'default', workflowId });

  test.each([
    ['webhook:acme:stripe:evt_1', 'tenant:acme'],
    ['call:acme:stripe:key-1', 'tenant:acme'],
    ['booking:acme:key-1', 'tenant:acme'],
    ['batch:acme:sendgrid:sendMail:high', 'tenant:acme'],
    ['delivery:sub_0123456789abcdef0123:stripe:evt_1', 'subscriber:sub_0123456789abcdef0123'],
    ['call:system:twilio:alert:r:f:run:raise:0', 'system'], // alert SMS: "system" is reserved, never a tenant
    ['alert:rule:fingerprint', 'system'],
    ['probe:stripe-2026-01-01T00:00:00Z', 'system'],
    ['webhook:ACME:stripe:evt_1', 'system'],
    ['webhook:../..:x', 'system'],
    ['', 'system'],
  ])('%j is sealed for %s', async (workflowId, owner) => {
    expect(ownerOfWorkflowId(workflowId)).toBe(owner);
    const [sealed] = await codec.encode([plain], workflow(workflowId));
    expect(text(sealed!.metadata![OWNER_METADATA])).toBe(owner);
    expect(claimedOwner(sealed!)).toBe(owner);
  });

  test("an activity's payloads belong to the workflow that scheduled it; no context is system", async () => {
    const activity: SerializationContext = { type: 'activity', namespace: 'default', workflowId: 'call:acme:stripe:k', activityId: '1', isLocal: true };
    expect(claimedOwner((await codec.encode([plain], activity))[0]!)).toBe('tenant:acme');
    expect(claimedOwner((await codec.encode([plain]))[0]!)).toBe('system');
    expect(claimedOwner(plain)).toBeUndefined();
  });

  test('relabelling the owner, or dropping it, fails authentication; the worker opens every owner', async () => {
    const [sealed] = await codec.encode([plain], workflow('webhook:acme:stripe:evt_1'));
    expect(text((await codec.decode([sealed!]))[0]!.data)).toBe(text(plain.data));
    const relabelled = { ...sealed, metadata: { ...sealed!.metadata, [OWNER_METADATA]: Buffer.from('tenant:other') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/failed authentication/);
    const toSystem = { ...sealed, metadata: { ...sealed!.metadata, [OWNER_METADATA]: Buffer.from('system') } };
    await expect(codec.decode([toSystem])).rejects.toThrow(/failed authentication/);
    const { [OWNER_METADATA]: _dropped, ...withoutOwner } = sealed!.metadata!;
    await expect(codec.decode([{ ...sealed, metadata: withoutOwner }])).rejects.toThrow(/failed authentication/);
  });

  test('a payload sealed before owners existed (no owner, additional data without it) still opens, and claims no owner', async () => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keyring.keys.get('k1')!, iv);
    cipher.setAAD(Buffer.from(`${ENCRYPTED_ENCODING}\0k1`));
    const body = temporal.api.common.v1.Payload.encode(plain).finish();
    const legacy: Payload = {
      metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from('k1') },
      data: Buffer.concat([iv, cipher.update(body), cipher.final(), cipher.getAuthTag()]),
    };
    expect(claimedOwner(legacy)).toBeNull();
    expect(text((await codec.decode([legacy]))[0]!.data)).toBe(text(plain.data));
    // Claiming an owner for it afterwards breaks its authentication.
    await expect(codec.decode([{ ...legacy, metadata: { ...legacy.metadata, [OWNER_METADATA]: Buffer.from('tenant:acme') } }])).rejects.toThrow(/failed authentication/);
  });

  test('nothing is sealed for a name that is no tenant ("system" is reserved)', async () => {
    expect(tenantOwner('acme')).toBe('tenant:acme');
    for (const name of ['system', 'ACME', '../..', 'a\0b', '']) expect(() => tenantOwner(name)).toThrow(RangeError);
    await expect(codec.sealFor('tenant:a\r\nb', [plain])).rejects.toThrow(RangeError);
  });
});
