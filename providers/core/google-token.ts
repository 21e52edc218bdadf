/**
 * Access tokens for the Google adapters that send a bearer token themselves (Calendar), from
 * whichever credential is configured, in this order:
 * - `serviceAccountKeyFile`: a service-account key, exchanged by google-auth-library as for Sheets
 *   (google-service-account.ts);
 * - `refreshToken` with `clientId` and `clientSecret`: an OAuth refresh token, posted to Google's
 *   token endpoint (the provider's `oauth2` host, `POST /token`, grant `refresh_token`);
 * - `accessToken`: a fixed token, used as it is (it cannot be refreshed; for short tests only).
 * A token is refreshed before it expires and, once, when the API answers 401 (bearer-tokens.ts).
 */
import { createHash } from 'node:crypto';
import type { ProviderCallContext } from './adapter-types';
import { bearerTokens, withBearerToken, type IssuedToken } from './bearer-tokens';
import { googleServiceAccountClient } from './google-service-account';
import { answerField, providerRequest, requireCredential } from './http-core';

function hashOf(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** The refresh-token grant at the provider's `oauth2` host. */
const refreshed = bearerTokens(
  (ctx) => `${ctx.provider.name}\n${ctx.provider.hosts.oauth2 ?? ''}\n${requireCredential(ctx, 'clientId')}\n${hashOf(requireCredential(ctx, 'refreshToken'))}`,
  async (ctx): Promise<IssuedToken> => {
    const response = await providerRequest({
      ctx,
      method: 'POST',
      host: 'oauth2',
      path: '/token',
      form: {
        grant_type: 'refresh_token',
        refresh_token: requireCredential(ctx, 'refreshToken'),
        client_id: requireCredential(ctx, 'clientId'),
        client_secret: requireCredential(ctx, 'clientSecret'),
      },
      failureIn: (answer) => (answerField(answer.body, 'access_token') ? null : { outcome: 'unavailable', code: null, message: 'token answer without access_token' }),
    });
    return { token: answerField(response.body, 'access_token')!, expiresInSeconds: Number(answerField(response.body, 'expires_in') ?? 0) };
  },
);

/** A new token from the service account's key (google-auth-library's `authorize` always asks for one). */
function serviceAccountTokens(scopes: readonly string[]) {
  return bearerTokens(
    (ctx) => `${ctx.provider.name}\n${requireCredential(ctx, 'serviceAccountKeyFile')}`,
    async (ctx): Promise<IssuedToken> => {
      const { client } = googleServiceAccountClient(ctx, scopes);
      const credentials = await client.authorize();
      const expiry = credentials.expiry_date;
      return { token: credentials.access_token ?? '', expiresInSeconds: expiry ? Math.max(0, (expiry - Date.now()) / 1000) : 0 };
    },
  );
}

/** Which credential a call's context carries. */
export function googleCredentialKind(ctx: ProviderCallContext): 'service-account' | 'refresh-token' | 'access-token' {
  if (ctx.credentials.serviceAccountKeyFile) return 'service-account';
  if (ctx.credentials.refreshToken) return 'refresh-token';
  return 'access-token';
}

/** Sends a Google API request with a bearer token for `scopes`, refreshed as needed. */
export function googleBearer(scopes: readonly string[]) {
  const serviceAccount = serviceAccountTokens(scopes);
  const fixed = { get: (ctx: ProviderCallContext) => Promise.resolve({ token: requireCredential(ctx, 'accessToken'), fromCache: false }), clear: () => undefined };
  return {
    send<T>(ctx: ProviderCallContext, send: (token: string) => Promise<T>): Promise<T> {
      const kind = googleCredentialKind(ctx);
      const tokens = kind === 'service-account' ? serviceAccount : kind === 'refresh-token' ? refreshed : fixed;
      return withBearerToken(ctx, tokens, send);
    },
    /** Forgets every cached token (tests). */
    clear(): void {
      serviceAccount.clear();
      refreshed.clear();
    },
  };
}
