/**
 * Google My Business (Business Profile API v4) adapter: replies to reviews and lists them, over
 * the shared HTTP core with a Google OAuth bearer token (providers/core/google-token.ts, scope
 * `business.manage`). Google has no idempotency key here and needs none: a reply is a PUT, so a
 * retried reply writes the same comment again. Failures are Google's `{error:{code, message,
 * status}}` bodies, read by the shared Google error reader and classified like Calendar's.
 */
import { z } from 'zod';
import { googleBearer } from '../core/google-token';
import { answerField, providerRequest, type ProviderRequestOptions, type ProviderResponse } from '../core/http-core';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext } from '../core/adapter-types';

/** Google's account and location ids are numbers (as text); review ids are opaque URL-safe text. */
const numericId = z.string().regex(/^\d{1,30}$/, 'digits only (the number in accounts/{id} or locations/{id})');
const reviewId = z.string().regex(/^[A-Za-z0-9_-]{1,300}$/, 'letters, digits, "_" and "-"');

const reviewRef = z.object({ accountId: numericId, locationId: numericId });

const replyToReviewParams = reviewRef.extend({
  reviewId,
  /** Google caps a reply at 4096 bytes. */
  comment: z.string().trim().min(1).refine((text) => Buffer.byteLength(text) <= 4096, { message: 'at most 4096 bytes' }),
});
export type ReplyToReviewParams = z.infer<typeof replyToReviewParams>;

const listReviewsParams = reviewRef.extend({
  pageSize: z.number().int().min(1).max(50).default(50),
  pageToken: z.string().min(1).max(1000).optional(),
  orderBy: z.enum(['updateTime desc', 'rating', 'rating desc']).optional(),
});
export type ListReviewsParams = z.infer<typeof listReviewsParams>;

/** The scope Google requires for every Business Profile call. */
const businessScopes = ['https://www.googleapis.com/auth/business.manage'] as const;
const bearer = googleBearer(businessScopes);

/** Forgets every cached Business Profile token (tests). */
export function clearMyBusinessTokens(): void {
  bearer.clear();
}

function reviewsPath(params: z.infer<typeof reviewRef>): string {
  return `/v4/accounts/${encodeURIComponent(params.accountId)}/locations/${encodeURIComponent(params.locationId)}/reviews`;
}

function businessRequest(ctx: ProviderCallContext, options: Omit<ProviderRequestOptions, 'ctx'>): Promise<ProviderResponse> {
  return bearer.send(ctx, (token) => providerRequest({ ...options, ctx, headers: { ...options.headers, authorization: `Bearer ${token}` } }));
}

const replyToReview: OperationAdapter<ReplyToReviewParams> = {
  params: replyToReviewParams,
  async run(params, ctx) {
    const response = await businessRequest(ctx, {
      method: 'PUT',
      path: `${reviewsPath(params)}/${encodeURIComponent(params.reviewId)}/reply`,
      json: { comment: params.comment },
    });
    return { data: { reviewId: params.reviewId, comment: answerField(response.body, 'comment'), updateTime: answerField(response.body, 'updateTime') } };
  },
};

/** A review reduced to what a reply workflow needs (the reviewer's photo and names of Google's resources left out). */
function reviewOf(review: unknown): Record<string, unknown> {
  return {
    reviewId: answerField(review, 'reviewId'),
    starRating: answerField(review, 'starRating'),
    comment: answerField(review, 'comment'),
    reviewer: answerField(review, 'reviewer', 'displayName'),
    createTime: answerField(review, 'createTime'),
    updateTime: answerField(review, 'updateTime'),
    replied: answerField(review, 'reviewReply', 'comment') !== null,
  };
}

const listReviews: OperationAdapter<ListReviewsParams> = {
  params: listReviewsParams,
  async run(params, ctx) {
    const response = await businessRequest(ctx, {
      method: 'GET',
      path: reviewsPath(params),
      query: { pageSize: params.pageSize, pageToken: params.pageToken, orderBy: params.orderBy },
    });
    const listed = typeof response.body === 'object' && response.body !== null ? (response.body as { reviews?: unknown }).reviews : undefined;
    const total = Number(answerField(response.body, 'totalReviewCount') ?? 0);
    const average = Number(answerField(response.body, 'averageRating') ?? 0);
    return {
      data: {
        reviews: Array.isArray(listed) ? listed.map(reviewOf) : [],
        averageRating: Number.isFinite(average) ? average : 0,
        totalReviewCount: Number.isFinite(total) ? total : 0,
        nextPageToken: answerField(response.body, 'nextPageToken'),
      },
    };
  },
};

export const googleMyBusinessAdapter: ProviderAdapter = { replyToReview, listReviews };
