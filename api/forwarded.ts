/**
 * The caller's address and protocol as Express's `req.ip` and `req.protocol` give them under the
 * app's `trust proxy` setting, for a request Express has not seen: the webhook intake runs ahead
 * of Express (api/app.ts). X-Forwarded-For and X-Forwarded-Proto count only from a trusted proxy.
 * test/unit/forwarded.test.ts checks both against Express's own on the same requests.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import proxyaddr from 'proxy-addr';

/** Express's compiled `trust proxy` setting (`app.get('trust proxy fn')`). */
export type TrustProxy = (address: string, hop: number) => boolean;

/** The client's address: the socket's, or the nearest untrusted hop of X-Forwarded-For. */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string {
  return proxyaddr(req, trust);
}

/** `http` or `https`: the socket's, or the first X-Forwarded-Proto value when the socket's peer is trusted. */
export function clientProtocol(req: IncomingMessage, trust: TrustProxy): string {
  const own = (req.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
  if (!trust(req.socket.remoteAddress ?? '', 0)) return own;
  const forwarded = req.headers['x-forwarded-proto'];
  const header = (Array.isArray(forwarded) ? forwarded.join(', ') : forwarded) || own;
  const comma = header.indexOf(',');
  return (comma === -1 ? header : header.slice(0, comma)).trim();
}
