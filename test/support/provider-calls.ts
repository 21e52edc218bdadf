/**
 * Adapter tests send provider calls the way the provider-call activity does, through the one entry
 * point (`prepareProviderCall`: registry lookup, params validation, dispatch, the production
 * failure types). A test describes its call as a `ProviderCallContext` whose provider entry it may
 * have adjusted (the fakes' base URL, a shorter timeout, its own pool settings or name); that entry
 * is the registry the call is looked up in. The activity's circuit breaker, cache, budgets and
 * stored credentials are not involved: the context's credentials are used as given.
 */
import { prepareProviderCall, type ProviderResult } from '../../providers/prepare-provider-call';
import type { ProviderCallContext } from '../../providers/core/adapter-types';

export async function sendProviderCall(ctx: ProviderCallContext, params: unknown): Promise<ProviderResult> {
  const registry = { [ctx.provider.name]: ctx.provider };
  return prepareProviderCall(registry, { provider: ctx.provider.name, operation: ctx.operation, params }).send(ctx);
}
