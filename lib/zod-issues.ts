/**
 * A zod failure as text, written one way for the API, the activities, the providers, the
 * configuration and the CLI: `path: message` lines for errors and logs, and `{path: message}` for
 * the `fields` of a 400 answer. Only paths and zod's messages, never the values: those may be
 * secrets or personal data.
 */
import type { z } from 'zod';

/** An issue's path as `a.b.0.c`, or `root` when the issue is about the whole value. */
export function issuePath(issue: z.core.$ZodIssue, root = ''): string {
  return issue.path.map(String).join('.') || root;
}

/**
 * `path: message` for each issue. `prefix` goes before every path (`sources.stripe.options.`);
 * `root` names an issue about the whole value (empty unless given, e.g. `(root)` or `body`).
 */
export function formatIssues(error: z.ZodError, { prefix = '', root = '' }: { prefix?: string; root?: string } = {}): string[] {
  return error.issues.map((issue) => `${prefix}${issuePath(issue, root)}: ${issue.message}`);
}

/** Field path → message, for a 400 that names exactly which field is wrong (`(root)`: the whole value). */
export function issueFields(error: z.ZodError): Record<string, string> {
  return Object.fromEntries(error.issues.map((issue) => [issuePath(issue, '(root)'), issue.message]));
}
