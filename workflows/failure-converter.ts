/**
 * The failure converter of workers with payload encryption on (`dataConverter.failureConverterPath`,
 * loaded in the workflow sandbox and in the worker): a failure's message and stack trace travel in
 * its `encodedAttributes` payload, which the payload codec seals like any other payload, so error
 * texts (which may quote a provider's answer) are ciphertext on the server too. Readers need no
 * change: every client's converter opens `encodedAttributes` when it is there.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
