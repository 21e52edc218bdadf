/**
 * Fake generic HTTP provider, httpbin's /anything: echoes what arrived so tests of the generic
 * `http` adapter can check method, path, query, headers and JSON body. The Authorization header is
 * left out of the echo so a credential never travels back into workflow results.
 */
import { STATUS_CODES } from 'node:http';
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
