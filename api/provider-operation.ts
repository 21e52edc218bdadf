/**
 * The provider and operation a work route's path names (`POST /calls/:provider/:operation`,
 * `POST /batches/:provider/:operation`), looked up exactly as the provider call will look it up
 * (`lookUpProviderOperation`: own registry entries, an adapter that can do it), so a name the
 * call would refuse is a 404 before anything starts.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Response } from 'express';
import { lookUpProviderOperation } from '../providers/prepare-provider-call';
import { callErrorTypes } from '../contracts/errors';
import type { ProviderRegistry } from '../lib/config/registry';
import { sendError } from './errors';

const notFound: readonly string[] = [callErrorTypes.unknownProvider, callErrorTypes.unknownOperation];

/** The operation's registry declaration and adapter, or undefined once the 404 `unknown_operation` is sent. */
export function providerOperationOr404(
  registry: ProviderRegistry,
  names: { provider: string; operation: string },
  res: Response,
): Pick<ReturnType<typeof lookUpProviderOperation>, 'declared' | 'adapter'> | undefined {
  try {
    return lookUpProviderOperation(registry, names);
  } catch (err) {
    if (!(err instanceof ApplicationFailure) || !notFound.includes(err.type ?? '')) throw err;
    sendError(res, 404, 'unknown_operation', err.message);
    return undefined;
  }
}
