/**
 * The fake geocoders' world (google-maps.ts, yandex-maps.ts): two well-known documentation
 * addresses at their published points, every other address at a point derived from a hash of its
 * text (so the same address always lands in the same place, and tests can compute it), and no
 * place at all for an address mentioning "nowhere" (ZERO_RESULTS / found 0).
 */
import { createHash } from 'node:crypto';

export interface FakePlace {
  address: string;
  lat: number;
  lng: number;
  countryCode: string;
  country: string;
  street: string;
  house: string;
  locality: string;
  placeId: string;
}

const KNOWN: readonly FakePlace[] = [
  {
    address: '1600 Amphitheatre Parkway, Mountain View, CA 94043, USA',
    lat: 37.4224764,
    lng: -122.0842499,
    countryCode: 'US',
    country: 'United States',
    street: 'Amphitheatre Parkway',
    house: '1600',
    locality: 'Mountain View',
    placeId: 'ChIJ2eUgeAK6j4ARbn5u_wAGqWA',
  },
  {
    address: 'Россия, Москва, улица Новый Арбат, 24',
    lat: 55.753083,
    lng: 37.587614,
    countryCode: 'RU',
    country: 'Россия',
    street: 'улица Новый Арбат',
    house: '24',
    locality: 'Москва',
    placeId: 'fake-place-novy-arbat-24',
  },
];

function normalise(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

function matches(known: FakePlace, query: string): boolean {
  const wanted = normalise(query).split(' ');
  const have = new Set(normalise(known.address).split(' '));
  return wanted.length >= 2 && wanted.every((word) => have.has(word));
}

const round6 = (value: number) => Math.round(value * 1e6) / 1e6;

/** The point the fakes give an address no known place matches: a hash of its normalised text. */
export function hashedPoint(address: string): { lat: number; lng: number } {
  const digest = createHash('sha256').update(normalise(address)).digest();
  return { lat: round6((digest.readUInt32BE(0) / 0xffffffff) * 130 - 60), lng: round6((digest.readUInt32BE(4) / 0xffffffff) * 360 - 180) };
}

/** The fake's answer for an address: none for "nowhere", a known place, or a hashed one. */
export function lookUpAddress(address: string): FakePlace[] {
  if (/nowhere/i.test(address)) return [];
  const known = KNOWN.find((place) => matches(place, address));
  if (known) return [known];
  const { lat, lng } = hashedPoint(address);
  const street = address.split(',')[0]!.trim();
  return [{ address: `${address.trim()}, Fakeland`, lat, lng, countryCode: 'FK', country: 'Fakeland', street, house: '1', locality: 'Fake City', placeId: `fake-place-${createHash('sha256').update(normalise(address)).digest('hex').slice(0, 16)}` }];
}

/** The fake's answer for a point: the known place within ~100 m, else a synthetic address at the point. */
export function lookUpPoint(lat: number, lng: number): FakePlace[] {
  const known = KNOWN.find((place) => Math.abs(place.lat - lat) < 0.001 && Math.abs(place.lng - lng) < 0.001);
  if (known) return [known];
  return [{ address: `Point ${lat}, ${lng}, Fakeland`, lat, lng, countryCode: 'FK', country: 'Fakeland', street: `Point ${lat}, ${lng}`, house: '1', locality: 'Fake City', placeId: `fake-point-${lat}-${lng}` }];
}

/** "a,b" as two finite numbers, else null. */
export function numberPair(text: string | undefined): [number, number] | null {
  const parts = (text ?? '').split(',');
  if (parts.length !== 2) return null;
  const [a, b] = parts.map((part) => (part.trim() === '' ? NaN : Number(part)));
  return Number.isFinite(a) && Number.isFinite(b) ? [a!, b!] : null;
}
