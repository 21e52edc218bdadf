/**
 * Fake Google My Business API v4 (Business Profile) reviews, on Google's paths and bodies:
 * - `GET /v4/accounts/{a}/locations/{l}/reviews` lists three reviews per location (ids
 *   `{locationId}-r1` … `-r3`), each with its reply once one was made, `averageRating` and
 *   `totalReviewCount`, paged by `pageSize` / `pageToken`;
 * - `PUT …/reviews/{reviewId}/reply` `{comment}` sets (or replaces) the reply and answers the
 *   ReviewReply `{comment, updateTime}`;
 * - `GET /$discovery/rest?…&fields=…` the discovery document (the health probe; Sheets' probe has
 *   no `fields`).
 * Failures are Google's `{error:{code, message, status}}`: 401 UNAUTHENTICATED without a live
 * token, 403 PERMISSION_DENIED for a token issued without the business.manage scope, 400
 * INVALID_ARGUMENT for an empty comment, 404 NOT_FOUND for an unknown review or a location id
 * starting with `404`.
 */
import { STATUS_CODES } from 'node:http';
import { bearerToken, isRecord } from '../http-io';
import type { ProviderState } from '../state';
import type { FakeResponse, ParsedRequest } from '../types';
import { BUSINESS_SCOPE, ISSUED_TOKEN_PREFIX } from './google-sheets';
import { json, type ProviderModule } from './provider-module';

const REVIEWS = /^\/v4\/accounts\/(?<accountId>[^/]+)\/locations\/(?<locationId>[^/]+)\/reviews$/;
const REPLY = /^\/v4\/accounts\/(?<accountId>[^/]+)\/locations\/(?<locationId>[^/]+)\/reviews\/(?<reviewId>[^/]+)\/reply$/;
const STARS = ['FIVE', 'FOUR', 'TWO'] as const;
const RATINGS: Record<string, number> = { ONE: 1, TWO: 2, THREE: 3, FOUR: 4, FIVE: 5 };

function googleError(code: number, status: string, message: string): FakeResponse {
  return json(code, { error: { code, message, status } });
}

/** 401 without a live token; 403 for a token the fake issued without the Business Profile scope. */
function rejectToken(req: ParsedRequest, state: ProviderState): FakeResponse | undefined {
  const token = bearerToken(req);
  if (!token) return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
  if (!token.startsWith(ISSUED_TOKEN_PREFIX)) return undefined;
  const issued = state.googleAccessTokens.get(token);
  if (!issued || issued.expiresAt <= Date.now()) return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
  if (!issued.scopes.includes(BUSINESS_SCOPE)) return googleError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.');
  return undefined;
}

interface FakeReview {
  name: string;
  reviewId: string;
  reviewer: { displayName: string; isAnonymous: boolean };
  starRating: string;
  comment: string;
  createTime: string;
  updateTime: string;
  reviewReply?: { comment: string; updateTime: string };
}

function reviewsOf(params: Record<string, string>, state: ProviderState): FakeReview[] | null {
  if (params.locationId!.startsWith('404')) return null;
  return STARS.map((starRating, index) => {
    const reviewId = `${params.locationId}-r${index + 1}`;
    const reply = state.reviewReplies.get(`${params.accountId}/${params.locationId}/${reviewId}`);
    const time = new Date(Date.UTC(2026, 0, index + 1)).toISOString();
    return {
      name: `accounts/${params.accountId}/locations/${params.locationId}/reviews/${reviewId}`,
      reviewId,
      reviewer: { displayName: `Reviewer ${index + 1}`, isAnonymous: false },
      starRating,
      comment: `Review ${index + 1} of location ${params.locationId}`,
      createTime: time,
      updateTime: time,
      ...(reply ? { reviewReply: reply } : {}),
    };
  });
}

const notFound = (): FakeResponse => googleError(404, 'NOT_FOUND', 'Requested entity was not found.');

function listReviews(req: ParsedRequest, params: Record<string, string>, state: ProviderState): FakeResponse {
  const reviews = reviewsOf(params, state);
  if (!reviews) return notFound();
  const pageSize = req.query.pageSize === undefined ? 50 : Number(req.query.pageSize);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 50) return googleError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
  const start = req.query.pageToken === undefined ? 0 : Number(req.query.pageToken);
  if (!Number.isInteger(start) || start < 0) return googleError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
  const page = reviews.slice(start, start + pageSize);
  const average = reviews.reduce((sum, review) => sum + RATINGS[review.starRating]!, 0) / reviews.length;
  return json(200, {
    reviews: page,
    averageRating: Math.round(average * 10) / 10,
    totalReviewCount: reviews.length,
    ...(start + pageSize < reviews.length ? { nextPageToken: String(start + pageSize) } : {}),
  });
}

function reply(req: ParsedRequest, params: Record<string, string>, state: ProviderState): FakeResponse {
  const reviews = reviewsOf(params, state);
  if (!reviews?.some((review) => review.reviewId === params.reviewId)) return notFound();
  const comment = isRecord(req.body) ? req.body.comment : undefined;
  if (typeof comment !== 'string' || comment.trim() === '') return googleError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
  const answer = { comment, updateTime: new Date().toISOString() };
  state.reviewReplies.set(`${params.accountId}/${params.locationId}/${params.reviewId}`, answer);
  return json(200, answer);
}

export const googleMyBusiness: ProviderModule = {
  id: 'google-my-business',
  routes: [
    {
      // The discovery document: the health probe (told from Sheets' by its `fields`).
      method: 'GET',
      path: /^\/\$discovery\/rest$/,
      accepts: (req) => req.query.fields !== undefined,
      operation: 'probe',
      handle: () => json(200, { name: 'mybusiness', version: 'v4' }),
    },
    {
      method: 'GET',
      path: REVIEWS,
      operation: 'listReviews',
      handle: (req, params, state) => rejectToken(req, state) ?? listReviews(req, params, state),
    },
    {
      method: 'PUT',
      path: REPLY,
      operation: 'replyToReview',
      handle: (req, params, state) => rejectToken(req, state) ?? reply(req, params, state),
    },
  ],
  faultBodies: {
    status: (status) => ({
      error: {
        code: status,
        message: status >= 500 ? 'The service is currently unavailable.' : (STATUS_CODES[status] ?? 'error'),
        status: status === 503 ? 'UNAVAILABLE' : status >= 500 ? 'INTERNAL' : status === 403 ? 'PERMISSION_DENIED' : status === 404 ? 'NOT_FOUND' : 'FAILED_PRECONDITION',
      },
    }),
    rateLimit: () => ({
      error: {
        code: 429,
        message: "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service 'mybusiness.googleapis.com'.",
        status: 'RESOURCE_EXHAUSTED',
      },
    }),
    validation: () => ({ error: { code: 400, message: 'Request contains an invalid argument.', status: 'INVALID_ARGUMENT' } }),
  },
};
