/**
 * OAuth access tokens for the adapters that need one (PayPal's client credentials, Google's
 * refresh token or service account): each token is cached per process and per account until
 * shortly before it expires, concurrent calls share one token request, and an API answer of 401
 * (a token revoked or expired early) replaces a cached token once and sends the request again.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ProviderCallContext } from './adapter-types';
import type { ProviderFailureDetails } from './classify';

export interface IssuedToken {
  token: string;
  /** Seconds the issuer says the token lives (`expires_in`); 0 or unknown: use it once. */
  expiresInSeconds: number;
}

interface CachedToken {
  token: string;
  /** Epoch ms after which the token is not used any more. */
  usableUntil: number;
}

/** A token is dropped this long before its expiry (at most a tenth of its life), so none expires mid-request. */
const expiryMarginMs = 60_000;

export interface BearerTokens {
  /** A usable token: the cached one, or a new one (`refresh` forces a new one). */
  get(ctx: ProviderCallContext, refresh?: boolean): Promise<{ token: string; fromCache: boolean }>;
  /** Forgets every cached token (tests). */
  clear(): void;
}

/**
 * Tokens of one kind: `account` names the account a context's token belongs to (base URL, client
 * id, a hash of the secret: never the secret itself), `issue` asks the issuer for a new one.
 */
export function bearerTokens(account: (ctx: ProviderCallContext) => string, issue: (ctx: ProviderCallContext) => Promise<IssuedToken>): BearerTokens {
  const tokens = new Map<string, CachedToken>();
  const requests = new Map<string, Promise<CachedToken>>();
  return {
    async get(ctx, refresh = false) {
      const key = account(ctx);
      const cached = tokens.get(key);
      if (!refresh && cached && cached.usableUntil > Date.now()) return { token: cached.token, fromCache: true };
      let pending = requests.get(key);
      if (!pending) {
        pending = issue(ctx)
          .then(({ token, expiresInSeconds }) => {
            const lifetimeMs = Number.isFinite(expiresInSeconds) && expiresInSeconds > 0 ? expiresInSeconds * 1000 : 0;
            return { token, usableUntil: Date.now() + Math.max(0, lifetimeMs - Math.min(expiryMarginMs, lifetimeMs / 10)) };
          })
          .finally(() => requests.delete(key));
        requests.set(key, pending);
      }
      const fresh = await pending;
      tokens.set(key, fresh);
      return { token: fresh.token, fromCache: false };
    },
    clear() {
      tokens.clear();
    },
  };
}

/** The HTTP status a provider call failed with, when the provider answered. */
export function answeredStatus(error: unknown): number | null {
  if (!(error instanceof ApplicationFailure)) return null;
  const detail = error.details?.[0] as Partial<ProviderFailureDetails> | undefined;
  return typeof detail?.status === 'number' ? detail.status : null;
}

/** Sends with a token; a cached token the provider refuses with 401 is replaced once and the request sent again. */
export async function withBearerToken<T>(ctx: ProviderCallContext, tokens: BearerTokens, send: (token: string) => Promise<T>): Promise<T> {
  const first = await tokens.get(ctx);
  try {
    return await send(first.token);
  } catch (error) {
    if (!first.fromCache || answeredStatus(error) !== 401) throw error;
    return send((await tokens.get(ctx, true)).token);
  }
}
