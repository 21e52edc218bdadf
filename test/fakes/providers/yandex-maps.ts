/**
 * Fake Yandex Geocoder HTTP API (`GET /1.x/?apikey&geocode&format=json&lang&results`). Points are
 * "longitude latitude" (`Point.pos`) and a reverse query is "lon,lat", as Yandex has them, so the
 * adapter's order handling is exercised for real. Errors are HTTP statuses with Yandex's
 * `{statusCode, error, message}` body: 403 "Invalid api key" for a missing or wrong key, 429 over
 * the limit (`rate-limit` fault), 400 for bad params. Places come from gazetteer.ts. A request
 * without a key is the health probe (operation `probe`).
 */
import { STATUS_CODES } from 'node:http';
import { fakeCredentials } from '../credentials';
import type { FakeResponse } from '../types';
import { lookUpAddress, lookUpPoint, numberPair, type FakePlace } from './gazetteer';
import { json, type ProviderModule } from './provider-module';

function yandexError(statusCode: number, message: string): FakeResponse {
  return json(statusCode, { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message });
}

function featureMember(place: FakePlace): Record<string, unknown> {
  const components = [
    { kind: 'country', name: place.country },
    { kind: 'locality', name: place.locality },
    { kind: 'street', name: place.street },
    { kind: 'house', name: place.house },
  ];
  return {
    GeoObject: {
      metaDataProperty: {
        GeocoderMetaData: {
          precision: 'exact',
          text: place.address,
          kind: 'house',
          Address: { country_code: place.countryCode, formatted: place.address, Components: components },
        },
      },
      name: `${place.street}, ${place.house}`,
      description: `${place.locality}, ${place.country}`,
      boundedBy: { Envelope: { lowerCorner: `${place.lng - 0.004} ${place.lat - 0.002}`, upperCorner: `${place.lng + 0.004} ${place.lat + 0.002}` } },
      Point: { pos: `${place.lng} ${place.lat}` },
    },
  };
}

export const yandexMaps: ProviderModule = {
  id: 'yandex-maps',
  routes: [
    {
      method: 'GET',
      path: /^\/1\.x\/?$/,
      operation: (req) => (req.query.apikey === undefined ? 'probe' : numberPair(req.query.geocode) ? 'reverseGeocode' : 'geocode'),
      handle(req) {
        if (req.query.apikey !== fakeCredentials.YANDEX_MAPS_API_KEY) return yandexError(403, 'Invalid api key');
        const geocode = req.query.geocode?.trim();
        if (!geocode) return yandexError(400, "Parameter 'geocode' is required");
        if (req.query.format !== 'json') return yandexError(400, 'the fake serves format=json only');
        const wanted = req.query.results === undefined ? 10 : Number(req.query.results);
        if (!Number.isInteger(wanted) || wanted < 1 || wanted > 100) return yandexError(400, "Invalid parameter 'results'");
        const point = numberPair(geocode);
        // "lon,lat": the first number is the longitude.
        const places = (point ? lookUpPoint(point[1], point[0]) : lookUpAddress(geocode)).slice(0, wanted);
        return json(200, {
          response: {
            GeoObjectCollection: {
              metaDataProperty: { GeocoderResponseMetaData: { request: geocode, found: String(places.length), results: String(wanted) } },
              featureMember: places.map(featureMember),
            },
          },
        });
      },
    },
  ],
  faultBodies: {
    status: (status) => ({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message: status === 403 ? 'Invalid api key' : 'Internal error' }),
    rateLimit: () => ({ statusCode: 429, error: 'Too Many Requests', message: 'Too many requests' }),
    validation: () => ({ statusCode: 400, error: 'Bad Request', message: "Invalid parameter 'geocode'" }),
  },
};
