/**
 * Folders say what they hold: SQL is written in the data-access modules of lib/data/ (one per
 * table or aggregate), and the API reads state through them, never through activities/. These
 * checks read the source tree, so a query or an import put in the wrong folder fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = join(__dirname, '..', '..');

/** The application's source folders (tests, scripts and the console's browser code aside). */
const sourceFolders = ['activities', 'api', 'cli', 'client', 'contracts', 'lib', 'providers', 'workers', 'workflows'];

/**
 * The store of sealed secrets keeps its own tables' SQL (`webhook_signing_secrets`,
 * `provider_credentials`) beside the sealing it is part of, with the master-key rotation that
 * re-wraps every sealed column, whatever its table, in one locked transaction per row.
 */
const sqlOutsideLibData = new Set(['lib/security/stored-secrets.ts']);

const SQL = /\b(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM)\b/;

function tsFiles(folder: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(root, folder), { withFileTypes: true })) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) files.push(...tsFiles(path));
    else if (entry.name.endsWith('.ts')) files.push(path);
  }
  return files;
}

/** Every module specifier a file imports or re-exports from (static and dynamic, types included). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specifiers = [...text.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'\s*\)|\bimport\s+'([^']+)'|\brequire\(\s*'([^']+)'\s*\)/g)];
  return specifiers.map((m) => (m[1] ?? m[2] ?? m[3] ?? m[4])!);
}

/** The repository folder a relative specifier points into (undefined for packages). */
function targetOf(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return relative(root, resolve(root, dirname(file), specifier)).split(sep).join('/');
}

function importsInto(folder: string, from: string[]): string[] {
  return from.flatMap((file) =>
    importsOf(file)
      .filter((specifier) => {
        const target = targetOf(file, specifier);
        return target !== undefined && (target === folder || target.startsWith(`${folder}/`));
      })
      .map((specifier) => `${file}: ${specifier}`),
  );
}

test('no file under api/ imports from activities/', () => {
  const api = tsFiles('api');
  expect(api.length).toBeGreaterThan(10);
  expect(importsInto('activities', api)).toEqual([]);
});

test('lib/data/ imports neither activities/ nor api/ (data access sits below both)', () => {
  const data = tsFiles('lib/data');
  expect(importsInto('activities', data)).toEqual([]);
  expect(importsInto('api', data)).toEqual([]);
});

test('workflows/ do not import lib/data/ (workflow code stays deterministic; it reaches data through activities)', () => {
  expect(importsInto('lib/data', tsFiles('workflows'))).toEqual([]);
});

test('SQL is written only in lib/data/ (and the secret store named above)', () => {
  const files = sourceFolders.flatMap(tsFiles);
  const withSql = files.filter((file) => SQL.test(readFileSync(join(root, file), 'utf8')));
  expect(withSql.filter((file) => file.startsWith('lib/data/')).length).toBeGreaterThan(5);
  expect(withSql.filter((file) => !file.startsWith('lib/data/') && !sqlOutsideLibData.has(file))).toEqual([]);
});

test('the check finds SQL and activities imports where they are (it is not vacuous)', () => {
  expect(SQL.test("pool.query('SELECT 1')")).toBe(true);
  expect(SQL.test('`UPDATE deliveries SET attempts = attempts + 1`')).toBe(true);
  expect(targetOf('api/routes/calls.ts', '../../activities/budgets')).toBe('activities/budgets');
  expect(importsInto('activities', ['workers/worker.ts'])).not.toEqual([]);
});
