/**
 * Where configuration values come from, later ones winning: an optional JSON file
 * (`CONFIG_FILE`: `{"VARIABLE": "value"}`), the environment, and for any variable `<NAME>_FILE`:
 * the file's contents without its final newline (so secrets stay out of the environment listing).
 * Every problem is reported at once, naming the variable.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(public readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const fileDocument = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

/**
 * The raw values of `variables`. `knownKeys`, when given, are every key CONFIG_FILE may hold
 * (anything else is reported as a typo).
 */
export function configSources(env: NodeJS.ProcessEnv, variables: readonly string[], knownKeys?: readonly string[]): Record<string, string | undefined> {
  const issues: string[] = [];
  let fromFile: Record<string, string> = {};
  if (env.CONFIG_FILE) {
    try {
      const parsed = fileDocument.safeParse(JSON.parse(readFileSync(env.CONFIG_FILE, 'utf8')));
      if (!parsed.success) throw new Error('must be a JSON object of strings, numbers or booleans');
      fromFile = Object.fromEntries(Object.entries(parsed.data).map(([k, v]) => [k, String(v)]));
      for (const key of Object.keys(fromFile)) if (knownKeys && !knownKeys.includes(key)) issues.push(`CONFIG_FILE: unknown key ${key}`);
    } catch (err) {
      issues.push(`CONFIG_FILE: cannot use ${env.CONFIG_FILE}: ${(err as Error).message}`);
    }
  }
  const values: Record<string, string | undefined> = {};
  for (const name of variables) {
    values[name] = env[name] ?? fromFile[name];
    const file = env[`${name}_FILE`];
    if (!file) continue;
    if (env[name] !== undefined) issues.push(`${name}_FILE: ${name} is set as well; set only one`);
    try {
      values[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      issues.push(`${name}_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return values;
}
