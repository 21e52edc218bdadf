/**
 * Development only: the codec endpoint without a credential, for the Temporal Web UI that
 * `npm start` runs. That UI calls its codec from the browser and sends no credential, so the
 * API's own `/codec` (which requires one) cannot serve it. This listener:
 * - is off unless CODEC_DEV_PORT is set (`npm start` sets it, docker-compose does not);
 * - listens on 127.0.0.1 only, so only this machine reaches it;
 * - answers CORS for TEMPORAL_UI_URL's origin only;
 * - decodes and encodes as an admin of DEFAULT_TENANT, through the same handlers as `/codec`:
 *   that tenant's payloads and system ones (probes, SLA, alerts) open, every other tenant's come
 *   back still sealed, as they would for that tenant's admin.
 * Production points the UI at the API's `/codec` with the signed-in user's token instead
 * (docs/SECURITY.md).
 */
import type { Server } from 'node:http';
import express from 'express';
import type { Config } from '../lib/config/config';
import type { Principal } from './auth';
import { codecContext, codecCors, type CodecRouteDeps } from './routes/codec';
import { sendError } from './errors';

/** Who the development codec acts as. */
export function devCodecPrincipal(config: Config): Principal {
  return { kind: 'loopback', id: 'dev-codec', tenant: config.DEFAULT_TENANT, role: 'admin' };
}

export function devCodecApp(deps: CodecRouteDeps): express.Express {
  const { decode, encode } = codecContext(deps);
  const app = express();
  app.disable('x-powered-by');
  app.use('/codec', codecCors(deps.config));
  app.use(express.json({ limit: '4mb' }));
  app.use((_req, res, next) => {
    res.locals.principal = devCodecPrincipal(deps.config);
    next();
  });
  app.post('/codec/decode', (req, res, next) => void decode(req, res).catch(next));
  app.post('/codec/encode', (req, res, next) => void encode(req, res).catch(next));
  app.use((_req, res) => sendError(res, 404, 'not_found', 'this development listener serves POST /codec/decode and /codec/encode only'));
  return app;
}

/** Serves the development codec on 127.0.0.1:`port` (0: a free one). */
export function serveDevCodec(deps: CodecRouteDeps, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = devCodecApp(deps).listen(port, '127.0.0.1', () => resolve(server));
    server.once('error', reject);
  });
}
