/**
 * Fake Google Maps Geocoding API (`GET /maps/api/geocode/json`, `address` or `latlng`, `key`).
 * Like Google it answers most failures inside an HTTP 200 as the body's `status`: REQUEST_DENIED
 * for a missing or wrong key, OVER_QUERY_LIMIT for a `status` fault of 200 (or 429, or a
 * `rate-limit` fault), ZERO_RESULTS for an address mentioning "nowhere"; INVALID_REQUEST (400)
 * without an address or point. Places come from gazetteer.ts. A request without a key is the
 * health probe (operation `probe`).
 */
import { fakeCredentials } from '../credentials';
import type { FakeResponse } from '../types';
import { lookUpAddress, lookUpPoint, numberPair, type FakePlace } from './gazetteer';
import { json, type ProviderModule } from './provider-module';

const overQueryLimit = { status: 'OVER_QUERY_LIMIT', error_message: 'You have exceeded your rate-limit for this API.', results: [] };

function invalidRequest(message: string): FakeResponse {
  return json(400, { status: 'INVALID_REQUEST', error_message: message, results: [] });
}

function googleResult(place: FakePlace, type: string): Record<string, unknown> {
  return {
    address_components: [
      { long_name: place.house, short_name: place.house, types: ['street_number'] },
      { long_name: place.street, short_name: place.street, types: ['route'] },
      { long_name: place.locality, short_name: place.locality, types: ['locality', 'political'] },
      { long_name: place.country, short_name: place.countryCode, types: ['country', 'political'] },
    ],
    formatted_address: place.address,
    geometry: {
      location: { lat: place.lat, lng: place.lng },
      location_type: 'ROOFTOP',
      viewport: {
        northeast: { lat: place.lat + 0.0013, lng: place.lng + 0.0013 },
        southwest: { lat: place.lat - 0.0013, lng: place.lng - 0.0013 },
      },
    },
    place_id: place.placeId,
    types: [type],
  };
}

function answer(places: FakePlace[], type: string): FakeResponse {
  return json(200, { results: places.map((place) => googleResult(place, type)), status: places.length === 0 ? 'ZERO_RESULTS' : 'OK' });
}

export const googleMaps: ProviderModule = {
  id: 'google-maps',
  routes: [
    {
      method: 'GET',
      path: /^\/maps\/api\/geocode\/json$/,
      operation: (req) => (req.query.key === undefined ? 'probe' : req.query.latlng !== undefined ? 'reverseGeocode' : 'geocode'),
      handle(req) {
        const key = req.query.key;
        if (key === undefined || key === '') {
          return json(200, {
            error_message: 'You must use an API key to authenticate each request to Google Maps Platform APIs.',
            results: [],
            status: 'REQUEST_DENIED',
          });
        }
        if (key !== fakeCredentials.GOOGLE_MAPS_API_KEY) {
          return json(200, { error_message: 'The provided API key is invalid. ', results: [], status: 'REQUEST_DENIED' });
        }
        if (req.query.latlng !== undefined) {
          const point = numberPair(req.query.latlng);
          if (!point || Math.abs(point[0]) > 90 || Math.abs(point[1]) > 180) return invalidRequest("Invalid request. Invalid 'latlng' parameter.");
          return answer(lookUpPoint(point[0], point[1]), 'street_address');
        }
        const address = req.query.address?.trim();
        if (!address) return invalidRequest("Invalid request. Missing the 'address', 'components', 'latlng' or 'place_id' parameter.");
        return answer(lookUpAddress(address), 'street_address');
      },
    },
  ],
  faultBodies: {
    status(status) {
      if (status === 200 || status === 429) return overQueryLimit;
      if (status >= 500) return { status: 'UNKNOWN_ERROR', error_message: 'An unknown error occurred.', results: [] };
      return { status: 'REQUEST_DENIED', error_message: 'This API project is not authorized to use this API.', results: [] };
    },
    rateLimit: () => overQueryLimit,
    validation: () => ({ status: 'INVALID_REQUEST', error_message: "Invalid request. Invalid 'address' parameter.", results: [] }),
  },
};
