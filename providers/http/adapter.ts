/**
 * The generic, configurable provider: an `http` registry entry declares each operation's method
 * and path (`{field}` placeholders filled from params), so a new plain-JSON API needs a registry
 * entry, not code. One operation adapter serves every declared operation; index.ts's
 * `adapterFor` resolves it against the registry entry.
 */
import { z } from 'zod';
import { providerErrorTypes, providerSetupFailure } from '../core/classify';
import { buildProviderUrl, providerRequest } from '../core/http-core';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext } from '../core/adapter-types';

/**
 * Why a path parameter could leave its own segment, or null: `.` or `..` (a URL parser or the
 * server resolves them, so `/anything/{id}` with `..` is sent as `/`), a `/` or `\`, or any of them
 * percent-encoded in any case and any depth (`%2e%2e`, `%2F`, `%5c`, `%252e`), which a server or a
 * proxy in front of it may decode.
 */
export function pathParamProblem(value: string): string | null {
  if (value === '') return 'must not be empty';
  let decoded = value;
  for (let previous = ''; decoded !== previous;) {
    previous = decoded;
    decoded = decoded.replace(/%25/gi, '%').replace(/%2e/gi, '.').replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
  }
  if (decoded === '.' || decoded === '..') return 'must not be "." or ".." (also percent-encoded)';
  if (/[/\\]/.test(decoded)) return 'must not contain "/" or "\\" (also percent-encoded)';
  return null;
}

const pathParamValue = z.string().superRefine((value, issues) => {
  const problem = pathParamProblem(value);
  if (problem) issues.addIssue({ code: 'custom', message: problem });
});

const httpCallParams = z.object({
  /** Values fill the declared path's `{field}` placeholders, each one segment (see pathParamProblem). */
  pathParams: z.record(z.string(), pathParamValue).optional(),
  query: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
});
export type HttpCallParams = z.infer<typeof httpCallParams>;

function invalid(ctx: ProviderCallContext, code: string, message: string) {
  return providerSetupFailure({ provider: ctx.provider.name, operation: ctx.operation, type: providerErrorTypes.invalidRequest, code, message });
}

/**
 * Fills `{field}` placeholders with URL-encoded path params; a missing one, or one that could leave
 * its segment, fails before sending (the params schema refuses those already: this is the second
 * line, for callers that reach the adapter another way).
 */
export function fillPath(ctx: ProviderCallContext, template: string, pathParams: Readonly<Record<string, string>>): string {
  return template.replace(/\{([^{}]+)\}/g, (_placeholder, field: string) => {
    const value = Object.hasOwn(pathParams, field) ? pathParams[field] : undefined;
    if (value === undefined || value === '') throw invalid(ctx, 'missing_path_param', `path parameter "${field}" is required`);
    const problem = pathParamProblem(value);
    if (problem) throw invalid(ctx, 'invalid_path_param', `path parameter "${field}" ${problem}`);
    return encodeURIComponent(value);
  });
}

/**
 * Whether `path` (filled from `template`) stays under the template's declared path once the URL is
 * resolved against the provider's base URL: its path must start with the part of the template
 * before the first placeholder (the whole template when it has none).
 */
export function withinDeclaredPath(baseUrl: string, template: string, path: string): boolean {
  const declared = buildProviderUrl(baseUrl, template.split('{')[0]!).pathname;
  const sent = buildProviderUrl(baseUrl, path).pathname;
  return sent.startsWith(declared);
}

/** The filled path of a declared operation, refused unless it stays under the declared path. */
function declaredRequestPath(ctx: ProviderCallContext, template: string, pathParams: Readonly<Record<string, string>>): string {
  const path = fillPath(ctx, template, pathParams);
  if (!withinDeclaredPath(ctx.provider.baseUrl, template, path)) {
    throw invalid(ctx, 'path_outside_operation', `the request path would leave the operation's declared path ${template.split('{')[0]!}`);
  }
  return path;
}

export const httpOperation: OperationAdapter<HttpCallParams> = {
  params: httpCallParams,
  async run(params, ctx) {
    const declared = Object.hasOwn(ctx.provider.operations, ctx.operation) ? ctx.provider.operations[ctx.operation] : undefined;
    if (!declared?.method || !declared.path) {
      throw invalid(ctx, 'unknown_operation', `operation is not declared with method and path in the registry`);
    }
    const bearerToken = ctx.credentials.bearerToken;
    const response = await providerRequest({
      ctx,
      method: declared.method,
      path: declaredRequestPath(ctx, declared.path, params.pathParams ?? {}),
      query: params.query,
      headers: bearerToken ? { authorization: `Bearer ${bearerToken}` } : {},
      // A body on GET/DELETE is not portable; only methods that carry one send it.
      json: declared.method === 'GET' || declared.method === 'DELETE' ? undefined : params.body,
    });
    return { data: { status: response.status, body: response.body } };
  },
};

/**
 * The generic operation for one declared path: its params must also name every `{field}` of the
 * path, so the API answers 400 for a missing one instead of starting a call that can only fail.
 */
export function httpOperationFor(template: string): OperationAdapter<HttpCallParams> {
  const fields = [...template.matchAll(/\{([^{}]+)\}/g)].map((placeholder) => placeholder[1]!);
  if (fields.length === 0) return httpOperation;
  const params = httpCallParams.superRefine((value, issues) => {
    for (const field of fields) {
      if (!value.pathParams || !Object.hasOwn(value.pathParams, field)) issues.addIssue({ code: 'custom', path: ['pathParams', field], message: `required by the operation's path ${template}` });
    }
  });
  return { params, run: (value, ctx) => httpOperation.run(value, ctx) };
}

const httpBatchParams = z.object({
  items: z.array(z.object({ id: z.string().min(1), body: z.unknown() })).min(1).max(10_000),
});
export type HttpBatchParams = z.infer<typeof httpBatchParams>;

const batchAnswer = z.object({
  results: z.array(z.object({ id: z.string(), status: z.number().int(), body: z.unknown().optional() })),
});

/**
 * A generic batch endpoint (`batchEndpoint: true` in the registry): POSTs `{"items":[{"id","body"}]}`
 * and expects `{"results":[{"id","status","body"}]}`. The per-item results come back as data; the
 * batch workflow fails only the items whose status is ≥ 400 (or that have no result).
 */
export const httpBatchOperation: OperationAdapter<HttpBatchParams> = {
  params: httpBatchParams,
  async run(params, ctx) {
    const declared = ctx.provider.operations[ctx.operation]!;
    const bearerToken = ctx.credentials.bearerToken;
    const response = await providerRequest({
      ctx,
      method: 'POST',
      path: declaredRequestPath(ctx, declared.path!, {}),
      headers: bearerToken ? { authorization: `Bearer ${bearerToken}` } : {},
      json: { items: params.items },
      failureIn: (answer) =>
        batchAnswer.safeParse(answer.body).success ? null : { outcome: 'rejected', code: 'bad_batch_answer', message: 'the batch endpoint did not answer {"results":[{id,status}]}' },
    });
    return { data: { results: batchAnswer.parse(response.body).results } };
  },
};

/**
 * The `http` kind's entry in the adapter table: empty, because its operations exist only in each
 * provider's registry entry. Resolve them with `adapterFor(provider, operation)` (index.ts).
 */
export const httpAdapter: ProviderAdapter = Object.freeze({});
