/**
 * Fake generic HTTP provider, httpbin's /anything: echoes what arrived so tests of the generic
 * `http` adapter can check method, path, query, headers and JSON body. The Authorization header is
 * left out of the echo so a credential never travels back into workflow results. `POST /batch`
 * is a generic batch endpoint (`{"items":[{id, body}]}` → `{"results":[{id, status, body}]}`):
 * an item whose body has a numeric `status` gets that status, the others 201.
 */
import { STATUS_CODES } from 'node:http';
import { isRecord } from '../http-io';
import { json, type ProviderModule } from './provider-module';

export const httpEcho: ProviderModule = {
  id: 'http',
  routes: [
    {
      // httpbin's /status/{code}: the health probe (answers that status). Faults on operation 'probe' (or on the whole provider) make it fail.
      method: 'GET',
      path: /^\/status\/(?<code>\d{3})$/,
      operation: 'probe',
      handle(_req, params) {
        return json(Number(params.code), {});
      },
    },
    {
      method: 'POST',
      path: /^\/batch$/,
      operation: 'batch',
      handle(req) {
        const items = isRecord(req.body) && Array.isArray(req.body.items) ? req.body.items : null;
        if (!items || items.length === 0 || !items.every((item) => isRecord(item) && typeof item.id === 'string')) {
          return json(400, { error: 'items must be a non-empty array of {id, body}' });
        }
        return json(200, {
          results: items.map((item: Record<string, unknown>) => {
            const status = isRecord(item.body) && typeof item.body.status === 'number' ? item.body.status : 201;
            return { id: item.id, status, body: { received: item.body ?? null } };
          }),
        });
      },
    },
    {
      method: 'ANY',
      path: /^\/anything(?:\/.*)?$/,
      operation: (req) => `${req.method} ${req.path}`,
      handle(req) {
        const { authorization: _authorization, ...headers } = req.headers;
        return json(200, {
          method: req.method,
          url: req.url,
          args: req.query,
          headers,
          json: req.bodyFormat === 'json' ? req.body : null,
        });
      },
    },
  ],
  faultBodies: {
    status: (status) => ({ error: (STATUS_CODES[status] ?? 'error').toLowerCase() }),
    rateLimit: () => ({ error: 'rate limited' }),
    validation: () => ({ error: 'validation failed' }),
  },
};
