/**
 * What the geocoding adapters (google-maps.ts, yandex-maps.ts) share: the params of `geocode`
 * (address → places) and `reverseGeocode` (point → places), and the one result shape both answer
 * with, so a caller (or a cached result, or a batch item) reads the same fields whichever provider
 * served it. Coordinates are always `lat`/`lng` numbers: Yandex's "lon lat" order stays inside its
 * adapter.
 */
import { z } from 'zod';

/** Most places a caller may ask for; Google answers a handful, Yandex up to 50 per page. */
export const maxGeocodeResults = 50;

const language = z.string().regex(/^[a-z]{2,3}([-_][A-Za-z]{2,4})?$/, 'a language code such as "en", "ru" or "ru_RU"');

export const geocodeParams = z.object({
  address: z.string().trim().min(1).max(2048),
  language: language.optional(),
  /** Google's region bias (a ccTLD such as "uk"); Yandex has no such parameter and ignores it. */
  region: z.string().regex(/^[a-z]{2}$/, 'a two-letter region code').optional(),
  limit: z.number().int().min(1).max(maxGeocodeResults).optional(),
});
export type GeocodeParams = z.infer<typeof geocodeParams>;

export const reverseGeocodeParams = z.object({
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
  language: language.optional(),
  limit: z.number().int().min(1).max(maxGeocodeResults).optional(),
});
export type ReverseGeocodeParams = z.infer<typeof reverseGeocodeParams>;

export interface AddressComponent {
  /** Google's first `types` entry (`route`, `locality`, `country`, …); Yandex's `kind` (`street`, `locality`, …). */
  kind: string;
  name: string;
  /** Google's `short_name` when it differs from the name. */
  shortName?: string;
}

export interface GeocodedPlace {
  formattedAddress: string;
  lat: number;
  lng: number;
  /**
   * How exact the point is, in the provider's own terms: Google's `location_type` (ROOFTOP,
   * RANGE_INTERPOLATED, GEOMETRIC_CENTER, APPROXIMATE), Yandex's `precision` (exact, number, near,
   * range, street, other).
   */
  precision: string | null;
  /** What the place is: Google's first result type (`street_address`, …), Yandex's `kind` (`house`, …). */
  kind: string | null;
  /** Google's `place_id`; Yandex has no stable id (null). */
  placeId: string | null;
  /** ISO 3166-1 alpha-2, when the provider gives one. */
  countryCode: string | null;
  components: AddressComponent[];
}

export interface GeocodeAnswer {
  /** `ZERO_RESULTS` is a successful answer with no place, never an error. */
  status: 'OK' | 'ZERO_RESULTS';
  results: GeocodedPlace[];
}

export function geocodeAnswer(results: GeocodedPlace[], limit: number | undefined): GeocodeAnswer {
  const kept = limit === undefined ? results : results.slice(0, limit);
  return { status: kept.length === 0 ? 'ZERO_RESULTS' : 'OK', results: kept };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

export function textOf(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** A finite coordinate from a number or a numeric string, else null. */
export function coordinateOf(value: unknown): number | null {
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(number) ? number : null;
}
