/**
 * Runs the fake providers as a process of their own, for a worker or a shell in another process
 * (point the PROVIDER_<NAME>_BASE_URL overrides at the printed URL; drive faults with the
 * /__fake/ control API). FAKE_PROVIDERS_PORT (default 4010), FAKE_PROVIDERS_HOST (default
 * 127.0.0.1). Prints one JSON line with the URL; SIGINT/SIGTERM stop it.
 */
import { startFakeProviders } from './provider-server';

async function main(): Promise<void> {
  const port = Number(process.env.FAKE_PROVIDERS_PORT ?? 4010);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`FAKE_PROVIDERS_PORT is not a port: ${process.env.FAKE_PROVIDERS_PORT}`);
  const fakes = await startFakeProviders({ port, host: process.env.FAKE_PROVIDERS_HOST ?? '127.0.0.1' });
  console.log(JSON.stringify({ msg: 'fake providers listening', url: fakes.url }));

  const stop = (): void => {
    fakes.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
