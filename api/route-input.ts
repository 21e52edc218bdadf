/**
 * How requests come in, one policy for the whole API: the URL is
 * percent-encoded UTF-8 text (every route, webhooks included), a service route takes only the
 * query parameters it documents, each once and valid, and a route with a JSON body takes
 * `application/json` only. Each refusal is a 4xx naming what is wrong, before any route runs.
 * Strings follow the text rule of api/schemas.ts (no NUL, no unpaired surrogate).
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { declaredRoute } from './access';
import { sendError, sendInvalid } from './errors';
import { isWellFormedText } from './schemas';

/** Whether PostgreSQL can store the text as is (and it is Unicode): the text rule. */
export function storableText(value: string): boolean {
  return isWellFormedText(value);
}

/** For `router.param`: an id PostgreSQL cannot hold names nothing, so it answers 404. */
export function unknownIfUnstorable(what: string) {
  return (_req: Request, res: Response, next: NextFunction, value: string): void => {
    if (storableText(value)) next();
    else sendError(res, 404, 'not_found', `no ${what} with that id`);
  };
}

/** A percent-encoded URL part as text, or undefined: a malformed escape, invalid UTF-8, or text the text rule refuses. */
function decodedText(raw: string): string | undefined {
  if (/%(?![0-9a-fA-F]{2})/.test(raw)) return undefined;
  let decoded: string;
  try {
    // decodeURIComponent refuses invalid UTF-8 (overlong forms and encoded surrogates included).
    decoded = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  // The text rule's own predicate: building a zod schema per segment cost a tenth of a webhook's CPU.
  return isWellFormedText(decoded) ? decoded : undefined;
}

const URL_TEXT = 'must be percent-encoded UTF-8 text without NUL';

/**
 * App-wide, ahead of every route: each path segment and each query name and value decodes as
 * UTF-8 text under the text rule, or the answer is 400. Express would turn invalid UTF-8 in a
 * query into U+FFFD (and a filter would then match nothing, silently).
 */
export function wellFormedUrl(): RequestHandler {
  return (req, res, next) => {
    const problem = urlProblem(req.originalUrl);
    if (problem) return sendError(res, 400, 'invalid_url', problem.reason, problem.fields);
    next();
  };
}

/** Why a request target is not well formed (the 400's reason and fields), or undefined. */
export function urlProblem(url: string): { reason: string; fields: Record<string, string> } | undefined {
  // Only printable ASCII belongs in a request target; anything else is sent percent-encoded.
  if (/[^\x21-\x7e]/.test(url)) return { reason: `the URL ${URL_TEXT}`, fields: { url: URL_TEXT } };
  const queryAt = url.indexOf('?');
  const pathPart = queryAt === -1 ? url : url.slice(0, queryAt);
  if (pathPart.split('/').some((segment) => decodedText(segment) === undefined)) {
    return { reason: `the path ${URL_TEXT}`, fields: { path: URL_TEXT } };
  }
  if (queryAt !== -1) {
    for (const pair of url.slice(queryAt + 1).split('&')) {
      const [name = '', value = ''] = pair.replace(/\+/g, ' ').split(/=(.*)/s);
      const decodedName = decodedText(name);
      if (decodedName === undefined || decodedText(value) === undefined) {
        return { reason: `query parameter ${decodedName === undefined ? '' : `"${decodedName}" `}${URL_TEXT}`, fields: { [decodedName ?? '(query)']: URL_TEXT } };
      }
    }
  }
  return undefined;
}

const noQuery = z.object({});

/**
 * Service-router middleware (after authorization, so the route is a declared one): the query holds
 * only the parameters the route's declaration (api/route.ts) takes, each at most once, and they pass its
 * schema; else 400 naming each parameter. `?wait=abc`, `?wait=-1`, `?wait=` and `?wait=1&wait=2`
 * are all refused rather than read as the default.
 */
export function queryPolicy(): RequestHandler {
  return (req, res, next) => {
    const route = declaredRoute(req.method, req.path);
    if (!route) return next();
    const schema = route.query ?? noQuery;
    const queryAt = req.originalUrl.indexOf('?');
    const values = new Map<string, string>();
    // A Map, not an object literal: `fields['__proto__'] = …` on a plain object sets nothing, and
    // `?__proto__=1` passed as if no parameter were wrong.
    const fields = new Map<string, string>();
    for (const [name, value] of new URLSearchParams(queryAt === -1 ? '' : req.originalUrl.slice(queryAt + 1))) {
      if (values.has(name)) fields.set(name, 'given more than once');
      else if (!Object.hasOwn(schema.shape, name)) {
        const known = Object.keys(schema.shape);
        fields.set(name, known.length > 0 ? `unknown query parameter; this route takes ${known.join(', ')}` : 'unknown query parameter; this route takes none');
      }
      values.set(name, value);
    }
    if (fields.size > 0) return sendError(res, 400, 'invalid_query', `invalid query parameter(s): ${[...fields.keys()].join(', ')}`, Object.fromEntries(fields));
    const parsed = schema.safeParse(Object.fromEntries(values));
    if (!parsed.success) return sendInvalid(res, 'invalid_query', 'invalid query parameter(s)', parsed.error);
    next();
  };
}

/** Whether the request carries a body (a length above zero, or a chunked one). */
function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

/**
 * The JSON body parser of every service route that takes a body: a body of any other content
 * type answers 415 (before, express.json skipped it and the route read an empty body, so
 * `PATCH /subscribers/:id` with text/plain answered 200 as an empty change). No body at all is
 * still an empty one, for routes whose body is optional.
 */
export function jsonBody(limit: string): RequestHandler {
  const parse = express.json({ limit });
  return (req, res, next) => {
    if (!hasBody(req)) return next();
    if (req.is('application/json')) return parse(req, res, next);
    const type = (req.get('content-type') ?? '').split(';')[0]!.trim();
    sendError(res, 415, 'unsupported_media_type', `the body must be application/json, not "${type || 'none'}"`);
  };
}
