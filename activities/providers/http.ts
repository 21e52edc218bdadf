/**
 * The generic, configurable provider: an `http` registry entry declares each operation's method
 * and path (`{field}` placeholders filled from params), so a new plain-JSON API needs a registry
 * entry, not code. One operation adapter serves every declared operation; index.ts's
 * `adapterFor` resolves it against the registry entry.
 */
import { z } from 'zod';
import { providerErrorTypes, providerSetupFailure } from './classify';
import { providerRequest } from './http-core';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext } from './types';

const httpCallParams = z.object({
  pathParams: z.record(z.string(), z.string()).optional(),
  query: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
});
export type HttpCallParams = z.infer<typeof httpCallParams>;

function invalid(ctx: ProviderCallContext, code: string, message: string) {
  return providerSetupFailure({ provider: ctx.provider.name, operation: ctx.operation, type: providerErrorTypes.invalidRequest, code, message });
}

/** Fills `{field}` placeholders with URL-encoded path params; a missing one fails before sending. */
export function fillPath(ctx: ProviderCallContext, template: string, pathParams: Readonly<Record<string, string>>): string {
  return template.replace(/\{([^{}]+)\}/g, (_placeholder, field: string) => {
    const value = Object.hasOwn(pathParams, field) ? pathParams[field] : undefined;
    if (value === undefined || value === '') throw invalid(ctx, 'missing_path_param', `path parameter "${field}" is required`);
    return encodeURIComponent(value);
  });
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
      path: fillPath(ctx, declared.path, params.pathParams ?? {}),
      query: params.query,
      headers: bearerToken ? { authorization: `Bearer ${bearerToken}` } : {},
      // A body on GET/DELETE is not portable; only methods that carry one send it.
      json: declared.method === 'GET' || declared.method === 'DELETE' ? undefined : params.body,
    });
    return { data: { status: response.status, body: response.body } };
  },
};

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
      path: fillPath(ctx, declared.path!, {}),
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
