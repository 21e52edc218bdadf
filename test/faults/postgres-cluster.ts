/**
 * A PostgreSQL cluster of the suite's own (initdb into a temporary directory, a free port), so the
 * suite can restart it without touching the shared server other tests use. initdb and postgres
 * refuse to run as root: when we are root they run as the `postgres` OS user, which owns the
 * directory.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PostgresCluster {
  url: string;
  port: number;
  dataDir: string;
  logFile: string;
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
}

/** The newest Debian PostgreSQL under /usr/lib/postgresql, or PG_BIN_DIR. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PG_BIN_DIR) return env.PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${root}; set PG_BIN_DIR`);
  return path.join(root, versions[0]!, 'bin');
}

interface OsUser {
  uid: number;
  gid: number;
  name: string;
}

async function postgresOsUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid, name: 'postgres' };
}

/** Runs a PostgreSQL binary, as the postgres OS user when we are root. */
async function pgCommand(binDir: string, user: OsUser | undefined, tool: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const binary = path.join(binDir, tool);
  const [file, argv] = user ? ['runuser', ['-u', user.name, '--', binary, ...args]] : [binary, args];
  try {
    const { stdout } = await run(file, argv, { timeout: timeoutMs });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`${tool} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

/** initdb + start; `dir` is created and (as root) handed to the postgres user. */
export async function createPostgresCluster(dir: string, port: number): Promise<PostgresCluster> {
  const binDir = postgresBinDir();
  const user = await postgresOsUser();
  mkdirSync(dir, { recursive: true });
  if (user) chownSync(dir, user.uid, user.gid);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  await pgCommand(binDir, user, 'initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
  // Unix socket in our own directory: never collides with the system cluster's /var/run socket.
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const cluster: PostgresCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/switchyard`,
    port,
    dataDir,
    logFile,
    async start() {
      await pgCommand(binDir, user, 'pg_ctl', ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', '60', 'start']);
    },
    async stop(mode) {
      await pgCommand(binDir, user, 'pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
    },
  };
  await cluster.start();
  return cluster;
}

/** Stops a cluster that may or may not be running (clean-up after a failure). */
export async function stopQuietly(cluster: PostgresCluster | undefined): Promise<void> {
  if (!cluster) return;
  await cluster.stop('immediate').catch(() => undefined);
}
