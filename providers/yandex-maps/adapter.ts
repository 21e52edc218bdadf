/**
 * Yandex Geocoder HTTP API adapter (`GET /1.x/?format=json`) over the shared HTTP core (Yandex
 * offers no Node SDK for it). Yandex reports failures with HTTP statuses (403 invalid key, 429 over
 * the limit, 400 bad params), which the core classifies as usual. Its points are "longitude
 * latitude" (`Point.pos`), and a reverse query is "lon,lat": both orders are handled here only, so
 * results come out in geocoding.ts's shared `lat`/`lng` shape.
 */
import {
  coordinateOf,
  geocodeAnswer,
  geocodeParams,
  isRecord,
  records,
  reverseGeocodeParams,
  textOf,
  type GeocodedPlace,
  type GeocodeParams,
  type ReverseGeocodeParams,
} from '../core/geocoding';
import { providerRequest, requireCredential } from '../core/http-core';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext, ProviderResult } from '../core/adapter-types';

/** Yandex's locales for plain language codes; Yandex answers in Russian when none is given. */
const yandexLocales: Readonly<Record<string, string>> = { ru: 'ru_RU', uk: 'uk_UA', be: 'be_BY', en: 'en_US', tr: 'tr_TR' };

/** `lang` for a caller's language code: `en` → `en_US`, `en-RU` → `en_RU`; default `ru_RU`. */
export function yandexLang(language: string | undefined): string {
  if (language === undefined) return 'ru_RU';
  const [lang = '', region] = language.split(/[-_]/);
  if (region !== undefined) return `${lang.toLowerCase()}_${region.toUpperCase()}`;
  return yandexLocales[lang.toLowerCase()] ?? `${lang.toLowerCase()}_${lang.toUpperCase()}`;
}

/** Yandex's point text "lon lat" as numbers, or null when it is not two numbers. */
export function yandexPoint(pos: unknown): { lat: number; lng: number } | null {
  if (typeof pos !== 'string') return null;
  const parts = pos.trim().split(/\s+/);
  if (parts.length !== 2) return null;
  const lng = coordinateOf(parts[0]);
  const lat = coordinateOf(parts[1]);
  return lat === null || lng === null ? null : { lat, lng };
}

function path(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) current = isRecord(current) ? current[key] : undefined;
  return current;
}

/** One `featureMember` in the shared shape; null when it has no usable point (skipped, never fatal). */
export function yandexPlace(member: Record<string, unknown>): GeocodedPlace | null {
  const geoObject = member.GeoObject;
  const point = yandexPoint(path(geoObject, 'Point', 'pos'));
  if (point === null) return null;
  const meta = path(geoObject, 'metaDataProperty', 'GeocoderMetaData');
  const address = path(meta, 'Address');
  const components = records(path(address, 'Components'))
    .map((component) => ({ kind: textOf(component.kind), name: textOf(component.name) }))
    .filter((c): c is { kind: string; name: string } => c.kind !== null && c.name !== null);
  const formatted =
    textOf(path(address, 'formatted')) ??
    textOf(path(meta, 'text')) ??
    [textOf(path(geoObject, 'name')), textOf(path(geoObject, 'description'))].filter((part) => part !== null).join(', ');
  return {
    formattedAddress: formatted,
    lat: point.lat,
    lng: point.lng,
    precision: textOf(path(meta, 'precision')),
    kind: textOf(path(meta, 'kind')),
    placeId: null,
    countryCode: textOf(path(address, 'country_code')),
    components,
  };
}

/** A Geocoder answer in the shared shape (`found: 0` or no members: ZERO_RESULTS). */
export function yandexGeocodeResult(body: unknown, limit: number | undefined): ProviderResult {
  const members = records(path(body, 'response', 'GeoObjectCollection', 'featureMember'));
  const places = members.map(yandexPlace).filter((place) => place !== null);
  return { data: { ...geocodeAnswer(places, limit) } };
}

async function geocoderRequest(ctx: ProviderCallContext, geocode: string, language: string | undefined, limit: number | undefined): Promise<ProviderResult> {
  const response = await providerRequest({
    ctx,
    method: 'GET',
    path: '/1.x/',
    query: { apikey: requireCredential(ctx, 'apiKey'), geocode, format: 'json', lang: yandexLang(language), results: limit },
  });
  return yandexGeocodeResult(response.body, limit);
}

const geocode: OperationAdapter<GeocodeParams> = {
  params: geocodeParams,
  run: (params, ctx) => geocoderRequest(ctx, params.address, params.language, params.limit),
};

const reverseGeocode: OperationAdapter<ReverseGeocodeParams> = {
  params: reverseGeocodeParams,
  // Yandex takes a point as "longitude,latitude".
  run: (params, ctx) => geocoderRequest(ctx, `${params.lng},${params.lat}`, params.language, params.limit),
};

export const yandexMapsAdapter: ProviderAdapter = { geocode, reverseGeocode };
