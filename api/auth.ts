/**
 * Authentication for the service API: an API key (`Authorization: Bearer sy_…` or `X-API-Key`)
 * checked against PostgreSQL, or a JWT bearer token verified with `jose` (HS256 with a shared
 * secret, or RS256 with a PEM public key or a JWKS URL) including issuer, audience and expiry.
 * Either way the caller gets a tenant and a role; routes ask `principalOf(res)`. Missing or
 * invalid credentials answer 401 with the reason; no credential is ever logged.
 */
import type { RequestHandler, Response } from 'express';
import { createRemoteJWKSet, errors as joseErrors, importSPKI, jwtVerify, type JWTVerifyGetKey, type KeyLike } from 'jose';
import type { Pool } from 'pg';
import { looksLikeApiKey, roles, verifyApiKey, type Role } from '../lib/security/api-keys';
import { tenantPattern, type Config } from '../lib/config/config';
import type { Logger } from '../lib/logger';
import { sendError } from './errors';

export interface Principal {
  /** `loopback`: the development codec listener (api/dev-codec.ts), which takes no credential. */
  kind: 'api-key' | 'jwt' | 'loopback';
  /** The key id or the token's `sub`: what rate limits and logs name (never the secret). */
  id: string;
  tenant: string;
  role: Role;
}

export function principalOf(res: Response): Principal | undefined {
  return res.locals.principal as Principal | undefined;
}

type JwtConfig = Pick<
  Config,
  'AUTH_JWT_SECRET' | 'AUTH_JWT_PUBLIC_KEY' | 'AUTH_JWKS_URL' | 'AUTH_JWT_ISSUER' | 'AUTH_JWT_AUDIENCE' | 'AUTH_JWT_TENANT_CLAIM' | 'AUTH_JWT_ROLE_CLAIM'
>;

type Verifier = (token: string) => Promise<Record<string, unknown>>;

/** The configured JWT check, or null when no JWT key is configured (API keys only). */
export function jwtVerifier(config: JwtConfig): Verifier | null {
  const options = { issuer: config.AUTH_JWT_ISSUER, audience: config.AUTH_JWT_AUDIENCE, requiredClaims: ['exp'], clockTolerance: 5 };
  if (config.AUTH_JWT_SECRET) {
    const secret = new TextEncoder().encode(config.AUTH_JWT_SECRET);
    return async (token) => (await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] })).payload;
  }
  let keys: JWTVerifyGetKey | Promise<KeyLike> | null = null;
  if (config.AUTH_JWKS_URL) keys = createRemoteJWKSet(new URL(config.AUTH_JWKS_URL));
  else if (config.AUTH_JWT_PUBLIC_KEY) keys = importSPKI(config.AUTH_JWT_PUBLIC_KEY, 'RS256');
  if (!keys) return null;
  const source = keys;
  return async (token) => {
    const verifyOptions = { ...options, algorithms: ['RS256'] };
    const result = typeof source === 'function' ? await jwtVerify(token, source, verifyOptions) : await jwtVerify(token, await source, verifyOptions);
    return result.payload;
  };
}

function tokenFailure(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `token claim "${err.claim}" invalid: ${err.reason}`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key matches the token';
  return 'token malformed or not verifiable';
}

/** The presented credential: `Authorization: Bearer <x>` or `X-API-Key: <x>`. */
function credentialOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1] ?? '';
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

export function authenticate(deps: { pool: Pool; config: JwtConfig; logger: Logger }): RequestHandler {
  const verifyJwt = jwtVerifier(deps.config);
  const reject = (res: Response, reason: string) => {
    res.setHeader('www-authenticate', 'Bearer');
    sendError(res, 401, 'unauthenticated', reason);
  };
  return (req, res, next) => {
    const credential = credentialOf(req.headers);
    if (credential === undefined) return reject(res, 'credentials required: Authorization: Bearer <API key or token>');
    if (credential === '') return reject(res, 'Authorization must be "Bearer <API key or token>"');
    const done = (principal: Principal | string) => {
      if (typeof principal === 'string') return reject(res, principal);
      res.locals.principal = principal;
      next();
    };
    if (looksLikeApiKey(credential)) {
      verifyApiKey(deps.pool, credential).then(
        (key) => {
          if (!key) return done('API key unknown or revoked');
          // A key stored before its tenant's name was reserved (lib/security/tenant-name.ts) names no tenant now.
          if (!tenantPattern.test(key.tenant)) return done('API key of a reserved or invalid tenant name');
          done({ kind: 'api-key', id: key.keyId, tenant: key.tenant, role: key.role });
        },
        (err: unknown) => {
          deps.logger.error({ err }, 'API key check failed');
          sendError(res, 503, 'auth_unavailable', 'credentials cannot be checked right now; retry later');
        },
      );
      return;
    }
    if (!verifyJwt) return reject(res, 'not an API key, and no token issuer is configured');
    verifyJwt(credential).then(
      (claims) => {
        const tenant = claims[deps.config.AUTH_JWT_TENANT_CLAIM];
        const role = claims[deps.config.AUTH_JWT_ROLE_CLAIM];
        if (typeof tenant !== 'string' || !tenantPattern.test(tenant)) return done(`token claim "${deps.config.AUTH_JWT_TENANT_CLAIM}" must name a tenant`);
        if (typeof role !== 'string' || !(roles as readonly string[]).includes(role)) {
          return done(`token claim "${deps.config.AUTH_JWT_ROLE_CLAIM}" must be one of ${roles.join(', ')}`);
        }
        done({ kind: 'jwt', id: typeof claims.sub === 'string' ? claims.sub : 'token', tenant, role: role as Role });
      },
      (err: unknown) => done(tokenFailure(err)),
    );
  };
}
