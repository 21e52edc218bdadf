/**
 * The tenant's suppression list (lib/data/suppressions.ts), for operators: what is on it and why
 * (a SendGrid bounce, unsubscribe or spam report; an SMS STOP), and lifting an entry, e.g. once a
 * mailbox that bounced works again. Sends to a listed address are refused (api/suppression-gate.ts,
 * providers/core/recipients.ts).
 */
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import { liftSuppression, normaliseAddress } from '../../lib/data/suppressions';
import * as suppressionData from '../../lib/data/suppressions';
import { noteAudit } from '../audit-middleware';
import { sendError, zodFieldErrors } from '../errors';
import { answer, defineRoute, failure, routeGroup } from '../route';
import * as s from '../schemas';
import { suppressionChannel, suppressionsQuery } from '../schemas';
import { requireTenant } from '../tenant';

export interface SuppressionRouteDeps {
  config: Config;
  pool: Pool;
}

function suppressionContext({ config, pool }: SuppressionRouteDeps) {
  return { config, pool };
}

type SuppressionContext = ReturnType<typeof suppressionContext>;
const route = defineRoute<SuppressionContext>();

export const listSuppressions = route({
  method: 'GET',
  path: '/suppressions',
  permission: 'suppressions:read',
  summary: "The tenant's suppressed e-mail addresses and phone numbers, newest first, with why and from whom",
  tag: 'suppressions',
  query: suppressionsQuery,
  responses: { 200: answer('suppressions', s.suppressionList), 400: failure('invalid filter') },
  async handler(req: Request, res: Response, { config, pool }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const query = suppressionsQuery.safeParse(req.query);
    if (!query.success) return sendError(res, 400, 'invalid_request', 'invalid filter', zodFieldErrors(query.error));
    res.json({ suppressions: await suppressionData.listSuppressions(pool, tenant, query.data) });
  },
});

export const liftSuppressionRoute = route({
  method: 'DELETE',
  path: '/suppressions/:channel/:address',
  permission: 'suppressions:write',
  audit: 'suppression.lift',
  summary: 'Lift a suppression: sends to the address go out again (the row stays, as lifted, so an older event cannot re-suppress it)',
  tag: 'suppressions',
  responses: { 204: { description: 'lifted' }, 400: failure('not an e-mail address or E.164 number'), 404: failure('not suppressed in this tenant') },
  async handler(req: Request<{ channel: string; address: string }>, res: Response, { config, pool }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const channel = suppressionChannel.safeParse(req.params.channel);
    if (!channel.success) return sendError(res, 400, 'invalid_request', 'the channel is email or sms', { channel: 'email or sms' });
    const address = normaliseAddress(channel.data, req.params.address);
    if (address === null) {
      return sendError(res, 400, 'invalid_request', `not ${channel.data === 'email' ? 'an e-mail address' : 'a phone number in E.164 form'}`, { address: 'invalid' });
    }
    const lifted = await liftSuppression(pool, {
      tenant,
      channel: channel.data,
      address,
      reason: 'operator',
      source: 'operator',
      sourceEventId: null,
      detail: null,
      at: new Date(),
    });
    if (!lifted) return sendError(res, 404, 'not_found', `${address} is not on the tenant's ${channel.data} suppression list`);
    noteAudit(res, { target: `${channel.data}:${address}` });
    res.status(204).end();
  },
});

export const suppressionRoutes = routeGroup({
  context: suppressionContext,
  routes: [listSuppressions, liftSuppressionRoute],
});
