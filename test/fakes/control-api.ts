/**
 * The control API under /__fake/ on the same port, for callers in other processes (the worker
 * under test, a shell with curl): read and clear the request log, add and remove faults, read the
 * side-effect counters, reset everything. Mirrors the in-process FakeProviders methods.
 */
import { InvalidFaultRuleError, type FaultBook } from './faults';
import { json } from './providers/provider-module';
import type { FakeRequest, FakeResponse, FakeState, ParsedRequest } from './types';

export const CONTROL_PREFIX = '/__fake/';

/** What the control API operates on; provided by the server. */
export interface ControlTarget {
  requests(filter: { provider?: string; operation?: string }): FakeRequest[];
  clearRequests(): void;
  faults: FaultBook;
  state(): FakeState;
  reset(): void;
  trustGoogleServiceAccount(clientEmail: string, publicKeyPem: string): void;
  twilioInbound(from: string, body: string): 'opted-out' | 'opted-in' | null;
}

const NO_CONTENT: FakeResponse = { status: 204 };

export function handleControlRequest(req: ParsedRequest, target: ControlTarget): FakeResponse {
  const route = `${req.method} ${req.path.slice(CONTROL_PREFIX.length - 1)}`;
  switch (route) {
    case 'GET /requests':
      // An empty query value means "no filter", so `?provider=` works like no parameter.
      return json(200, { requests: target.requests({ provider: req.query.provider || undefined, operation: req.query.operation || undefined }) });
    case 'DELETE /requests':
      target.clearRequests();
      return NO_CONTENT;
    case 'POST /faults':
      if (req.bodyFormat !== 'json') return json(400, { error: 'send the fault rule as a JSON body' });
      try {
        return json(201, { id: target.faults.add(req.body) });
      } catch (err) {
        if (err instanceof InvalidFaultRuleError) return json(400, { error: err.message });
        throw err;
      }
    case 'DELETE /faults':
      target.faults.clear();
      return NO_CONTENT;
    case 'GET /state':
      return json(200, target.state());
    case 'POST /google/service-accounts': {
      // {clientEmail, publicKey (PEM)}: the fake Google token endpoint then accepts that account's assertions.
      const body = req.body as { clientEmail?: unknown; publicKey?: unknown } | null;
      if (typeof body?.clientEmail !== 'string' || typeof body.publicKey !== 'string') return json(400, { error: 'send {"clientEmail", "publicKey"} as JSON' });
      target.trustGoogleServiceAccount(body.clientEmail, body.publicKey);
      return NO_CONTENT;
    }
    case 'POST /twilio/inbound': {
      // {From, Body}: an SMS to the account's number, handled as Twilio does (STOP … opts the sender out).
      const body = req.body as { From?: unknown; Body?: unknown } | null;
      if (typeof body?.From !== 'string' || typeof body.Body !== 'string') return json(400, { error: 'send {"From", "Body"} as JSON' });
      return json(200, { handled: target.twilioInbound(body.From, body.Body) });
    }
    case 'POST /reset':
      target.reset();
      return NO_CONTENT;
  }
  const faultId = /^DELETE \/faults\/([^/]+)$/.exec(route)?.[1];
  if (faultId !== undefined) {
    return target.faults.remove(faultId) ? NO_CONTENT : json(404, { error: `no fault ${faultId}` });
  }
  return json(404, { error: `no control route ${req.method} ${req.path}` });
}
