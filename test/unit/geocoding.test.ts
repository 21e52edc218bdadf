/**
 * The geocoding adapters' pure parts: Google's and Yandex's answers mapped to the one shared
 * result shape (Yandex's "lon lat" order in particular), Google's in-200 `status` classified
 * (OVER_QUERY_LIMIT retried, REQUEST_DENIED / INVALID_REQUEST not, ZERO_RESULTS a success), the
 * error bodies read for codes, and the registry's seed figures.
 */
import { classifyProviderError, googleMapsStatusOutcome, providerErrorTypes } from '../../providers/core/classify';
import { geocodeParams, reverseGeocodeParams } from '../../providers/core/geocoding';
import { googleGeocodeResult, googleMapsAnswerFailure } from '../../providers/google-maps/adapter';
import { yandexGeocodeResult, yandexLang, yandexPoint } from '../../providers/yandex-maps/adapter';
import { loadRegistry } from '../../lib/config/registry';
import { errorBodies, providerErrorBody } from '../../providers';

const googleAnswer = {
  status: 'OK',
  results: [
    {
      formatted_address: 'Tverskaya St, 7, Moscow, Russia, 125009',
      geometry: { location: { lat: 55.7577, lng: 37.6113 }, location_type: 'ROOFTOP' },
      place_id: 'ChIJexample',
      types: ['street_address'],
      address_components: [
        { long_name: '7', short_name: '7', types: ['street_number'] },
        { long_name: 'Tverskaya Street', short_name: 'Tverskaya St', types: ['route'] },
        { long_name: 'Russia', short_name: 'RU', types: ['country', 'political'] },
      ],
    },
    { formatted_address: 'no geometry: skipped', geometry: {} },
    {
      formatted_address: 'Moscow, Russia',
      geometry: { location: { lat: 55.7558, lng: 37.6173 }, location_type: 'APPROXIMATE' },
      place_id: 'ChIJmoscow',
      types: ['locality', 'political'],
      address_components: [],
    },
  ],
};

const yandexAnswer = {
  response: {
    GeoObjectCollection: {
      metaDataProperty: { GeocoderResponseMetaData: { request: 'Москва, Тверская 7', found: '1', results: '10' } },
      featureMember: [
        {
          GeoObject: {
            name: 'Тверская улица, 7',
            description: 'Москва, Россия',
            metaDataProperty: {
              GeocoderMetaData: {
                text: 'Россия, Москва, Тверская улица, 7',
                kind: 'house',
                precision: 'exact',
                Address: {
                  formatted: 'Россия, Москва, Тверская улица, 7',
                  country_code: 'RU',
                  Components: [
                    { kind: 'country', name: 'Россия' },
                    { kind: 'locality', name: 'Москва' },
                    { kind: 'street', name: 'Тверская улица' },
                    { kind: 'house', name: '7' },
                  ],
                },
              },
            },
            // Longitude first.
            Point: { pos: '37.611347 55.757718' },
          },
        },
        { GeoObject: { name: 'broken point: skipped', Point: { pos: '37.6' } } },
      ],
    },
  },
};

describe('Google answers in the shared shape', () => {
  test('maps point, precision, place id, country and components; skips results without a point; honours limit', () => {
    const { data } = googleGeocodeResult(googleAnswer, undefined);
    expect(data).toEqual({
      status: 'OK',
      results: [
        {
          formattedAddress: 'Tverskaya St, 7, Moscow, Russia, 125009',
          lat: 55.7577,
          lng: 37.6113,
          precision: 'ROOFTOP',
          kind: 'street_address',
          placeId: 'ChIJexample',
          countryCode: 'RU',
          components: [
            { kind: 'street_number', name: '7' },
            { kind: 'route', name: 'Tverskaya Street', shortName: 'Tverskaya St' },
            { kind: 'country', name: 'Russia', shortName: 'RU' },
          ],
        },
        expect.objectContaining({ formattedAddress: 'Moscow, Russia', precision: 'APPROXIMATE', countryCode: null, components: [] }),
      ],
    });
    expect((googleGeocodeResult(googleAnswer, 1).data.results as unknown[]).length).toBe(1);
    expect(googleGeocodeResult({ status: 'ZERO_RESULTS', results: [] }, undefined).data).toEqual({ status: 'ZERO_RESULTS', results: [] });
  });
});

describe('Yandex answers in the shared shape', () => {
  test('"lon lat" becomes lat/lng; kind, precision, country and components are read; a broken point is skipped', () => {
    expect(yandexGeocodeResult(yandexAnswer, undefined).data).toEqual({
      status: 'OK',
      results: [
        {
          formattedAddress: 'Россия, Москва, Тверская улица, 7',
          lat: 55.757718,
          lng: 37.611347,
          precision: 'exact',
          kind: 'house',
          placeId: null,
          countryCode: 'RU',
          components: [
            { kind: 'country', name: 'Россия' },
            { kind: 'locality', name: 'Москва' },
            { kind: 'street', name: 'Тверская улица' },
            { kind: 'house', name: '7' },
          ],
        },
      ],
    });
    const empty = { response: { GeoObjectCollection: { metaDataProperty: { GeocoderResponseMetaData: { found: '0' } }, featureMember: [] } } };
    expect(yandexGeocodeResult(empty, undefined).data).toEqual({ status: 'ZERO_RESULTS', results: [] });
  });

  test('points and languages', () => {
    expect(yandexPoint('37.611347 55.757718')).toEqual({ lat: 55.757718, lng: 37.611347 });
    expect(yandexPoint('-122.08 37.42')).toEqual({ lat: 37.42, lng: -122.08 });
    expect(yandexPoint('37.6')).toBeNull();
    expect(yandexPoint('east north')).toBeNull();
    expect(yandexLang(undefined)).toBe('ru_RU');
    expect(yandexLang('en')).toBe('en_US');
    expect(yandexLang('en-RU')).toBe('en_RU');
    expect(yandexLang('uk_UA')).toBe('uk_UA');
  });
});

describe('classification', () => {
  const ok = { status: 200, headers: {} };

  test("Google's status: OK and ZERO_RESULTS succeed, OVER_QUERY_LIMIT is throttling, refusals are final, the rest retried", () => {
    expect(googleMapsStatusOutcome('OK')).toBeNull();
    expect(googleMapsStatusOutcome('ZERO_RESULTS')).toBeNull();
    expect(googleMapsStatusOutcome('OVER_QUERY_LIMIT')).toBe('throttled');
    for (const status of ['REQUEST_DENIED', 'INVALID_REQUEST', 'OVER_DAILY_LIMIT']) expect(googleMapsStatusOutcome(status)).toBe('rejected');
    expect(googleMapsStatusOutcome('UNKNOWN_ERROR')).toBe('unavailable');
    expect(googleMapsStatusOutcome(null)).toBe('unavailable');
    expect(googleMapsAnswerFailure({ ...ok, body: { status: 'ZERO_RESULTS', results: [] } })).toBeNull();
  });

  const failureOf = (body: unknown) => {
    const reported = googleMapsAnswerFailure({ ...ok, body });
    expect(reported).not.toBeNull();
    return classifyProviderError({
      provider: 'google-maps',
      errorBody: errorBodies['google-maps'],
      operation: 'geocode',
      status: 200,
      body,
      credentials: { apiKey: 'AIzaSecretKey123' },
      ...reported!,
    });
  };

  test('OVER_QUERY_LIMIT in a 200 → retryable ProviderThrottled', () => {
    const failure = failureOf({ status: 'OVER_QUERY_LIMIT', error_message: 'You have exceeded your rate-limit for this API.', results: [] });
    expect(failure.type).toBe(providerErrorTypes.throttled);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('google-maps geocode: 200 OVER_QUERY_LIMIT: You have exceeded your rate-limit for this API.');
  });

  test('REQUEST_DENIED and INVALID_REQUEST → non-retryable ProviderRejected, the key scrubbed', () => {
    const denied = failureOf({ status: 'REQUEST_DENIED', error_message: 'The provided API key AIzaSecretKey123 is invalid.', results: [] });
    expect(denied.type).toBe(providerErrorTypes.rejected);
    expect(denied.nonRetryable).toBe(true);
    expect(denied.message).toBe('google-maps geocode: 200 REQUEST_DENIED: The provided API key [redacted] is invalid.');
    expect(failureOf({ status: 'INVALID_REQUEST', results: [] })).toMatchObject({ type: providerErrorTypes.rejected, nonRetryable: true });
    expect(failureOf({ status: 'UNKNOWN_ERROR', results: [] })).toMatchObject({ type: providerErrorTypes.unavailable, nonRetryable: false });
  });

  test('error bodies outside a 200: Google status + error_message, Yandex error + message', () => {
    expect(providerErrorBody('google-maps', { status: 'INVALID_REQUEST', error_message: 'Invalid request.' })).toEqual({ code: 'INVALID_REQUEST', message: 'Invalid request.' });
    expect(providerErrorBody('yandex-maps', { statusCode: 403, error: 'Forbidden', message: 'Invalid api key' })).toEqual({ code: 'Forbidden', message: 'Invalid api key' });
    const yandex403 = classifyProviderError({ provider: 'yandex-maps', errorBody: errorBodies['yandex-maps'], operation: 'geocode', status: 403, body: { statusCode: 403, error: 'Forbidden', message: 'Invalid api key' } });
    expect(yandex403).toMatchObject({ type: providerErrorTypes.rejected, nonRetryable: true, message: 'yandex-maps geocode: 403 Forbidden: Invalid api key' });
    const yandex429 = classifyProviderError({ provider: 'yandex-maps', errorBody: errorBodies['yandex-maps'], operation: 'geocode', status: 429, headers: {}, body: { statusCode: 429 } });
    expect(yandex429).toMatchObject({ type: providerErrorTypes.throttled, nonRetryable: false });
  });
});

describe('params and registry', () => {
  test('params are checked before anything is sent', () => {
    expect(geocodeParams.safeParse({ address: '  ' }).success).toBe(false);
    expect(geocodeParams.safeParse({ address: 'Main St 1', limit: 51 }).success).toBe(false);
    expect(reverseGeocodeParams.safeParse({ lat: 91, lng: 0 }).success).toBe(false);
    expect(reverseGeocodeParams.safeParse({ lat: 55.75, lng: 37.61 }).success).toBe(true);
  });

  test("the registry carries the seeds' figures: 25 per fan-out batch, 1.5 s wait, $6 a day, $150 a month, cached reads", () => {
    const registry = loadRegistry({});
    for (const name of ['google-maps', 'yandex-maps']) {
      const provider = registry[name]!;
      expect(provider.budget).toEqual({ dailyUsd: 6, monthlyUsd: 150 });
      expect(provider.batch).toMatchObject({ mode: 'fan-out', maxSize: 25, maxWaitMs: { high: 1500, medium: 1500, low: 1500 }, concurrency: 25 });
      for (const operation of ['geocode', 'reverseGeocode']) {
        expect(provider.operations[operation]!.cacheTtlSeconds).toBeGreaterThan(0);
        expect(provider.operations[operation]!.costUsd).toBeGreaterThan(0);
      }
    }
    expect(registry['google-maps']!.operations.geocode!.costUsd).toBe(0.005);
    expect(registry['google-maps']!.credentials).toEqual({ apiKey: 'GOOGLE_MAPS_API_KEY' });
    expect(registry['yandex-maps']!.credentials).toEqual({ apiKey: 'YANDEX_MAPS_API_KEY' });
  });
});
