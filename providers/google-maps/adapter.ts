/**
 * Google Maps Geocoding API adapter (`GET /maps/api/geocode/json`) over the shared HTTP core: there
 * is no official Google Maps Node SDK among the dependencies, and the core already brings the
 * pooled connections, timeouts, outbound (SSRF) policy, classification and metrics every adapter
 * shares. Google reports most failures inside an HTTP 200 as the answer's `status`, so the answer
 * is classified here (classify.ts `googleMapsStatusOutcome`): OVER_QUERY_LIMIT is throttling
 * (retried), REQUEST_DENIED / INVALID_REQUEST / OVER_DAILY_LIMIT are refusals (not retried),
 * ZERO_RESULTS is a successful empty answer. Results are normalised to geocoding.ts's shape.
 */
import { googleMapsStatusOutcome } from '../core/classify';
import {
  coordinateOf,
  geocodeAnswer,
  geocodeParams,
  isRecord,
  records,
  reverseGeocodeParams,
  textOf,
  type AddressComponent,
  type GeocodedPlace,
  type GeocodeParams,
  type ReverseGeocodeParams,
} from '../core/geocoding';
import { answerField, providerRequest, requireCredential, type ProviderResponse, type QueryValue } from '../core/http-core';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext, ProviderResult } from '../core/adapter-types';

const geocodePath = '/maps/api/geocode/json';

/** What failed inside a 200 answer (Google's `status`), or null for OK and ZERO_RESULTS. */
export function googleMapsAnswerFailure(response: ProviderResponse) {
  const status = answerField(response.body, 'status');
  const outcome = googleMapsStatusOutcome(status);
  if (outcome === null) return null;
  return {
    outcome,
    code: status ?? 'missing_status',
    message: answerField(response.body, 'error_message') ?? (status === null ? 'answer without a status' : `Geocoding API status ${status}`),
  };
}

function componentsOf(place: Record<string, unknown>): AddressComponent[] {
  const components: AddressComponent[] = [];
  for (const component of records(place.address_components)) {
    const name = textOf(component.long_name);
    const types = Array.isArray(component.types) ? component.types : [];
    const kind = textOf(types[0]);
    if (name === null || kind === null) continue;
    const shortName = textOf(component.short_name);
    components.push({ kind, name, ...(shortName !== null && shortName !== name ? { shortName } : {}) });
  }
  return components;
}

/** One Google result in the shared shape; null when it has no usable point (skipped, never fatal). */
export function googlePlace(place: Record<string, unknown>): GeocodedPlace | null {
  const geometry = isRecord(place.geometry) ? place.geometry : {};
  const location = isRecord(geometry.location) ? geometry.location : {};
  const lat = coordinateOf(location.lat);
  const lng = coordinateOf(location.lng);
  if (lat === null || lng === null) return null;
  const country = records(place.address_components).find((c) => Array.isArray(c.types) && c.types.includes('country'));
  const types = Array.isArray(place.types) ? place.types : [];
  return {
    formattedAddress: textOf(place.formatted_address) ?? '',
    lat,
    lng,
    precision: textOf(geometry.location_type),
    kind: textOf(types[0]),
    placeId: textOf(place.place_id),
    countryCode: country ? textOf(country.short_name) : null,
    components: componentsOf(place),
  };
}

/** A Geocoding API answer (already known to be OK or ZERO_RESULTS) in the shared shape. */
export function googleGeocodeResult(body: unknown, limit: number | undefined): ProviderResult {
  const places = records(isRecord(body) ? body.results : undefined)
    .map(googlePlace)
    .filter((place) => place !== null);
  return { data: { ...geocodeAnswer(places, limit) } };
}

async function geocodeRequest(ctx: ProviderCallContext, query: Record<string, QueryValue>, limit: number | undefined): Promise<ProviderResult> {
  const response = await providerRequest({
    ctx,
    method: 'GET',
    path: geocodePath,
    query: { ...query, key: requireCredential(ctx, 'apiKey') },
    failureIn: googleMapsAnswerFailure,
  });
  return googleGeocodeResult(response.body, limit);
}

const geocode: OperationAdapter<GeocodeParams> = {
  params: geocodeParams,
  run: (params, ctx) => geocodeRequest(ctx, { address: params.address, language: params.language, region: params.region }, params.limit),
};

const reverseGeocode: OperationAdapter<ReverseGeocodeParams> = {
  params: reverseGeocodeParams,
  run: (params, ctx) => geocodeRequest(ctx, { latlng: `${params.lat},${params.lng}`, language: params.language }, params.limit),
};

export const googleMapsAdapter: ProviderAdapter = { geocode, reverseGeocode };
