/** zod failures read the same everywhere: `path: message` lines, and `{path: message}` fields for a 400. */
import { z } from 'zod';
import { formatIssues, issueFields } from '../../lib/zod-issues';

const schema = z.object({ port: z.number(), hosts: z.array(z.string()) });
const failed = (value: unknown) => schema.safeParse(value).error!;

test('formatIssues: one `path: message` per issue, with an optional prefix and a name for the root', () => {
  expect(formatIssues(failed({ port: 'x', hosts: [1] }))).toEqual([
    'port: Invalid input: expected number, received string',
    'hosts.0: Invalid input: expected string, received number',
  ]);
  expect(formatIssues(failed({ port: 'x', hosts: [] }), { prefix: 'sources.a.options.' })).toEqual(['sources.a.options.port: Invalid input: expected number, received string']);
  expect(formatIssues(failed('nope'))).toEqual([': Invalid input: expected object, received string']);
  expect(formatIssues(failed('nope'), { root: 'body' })).toEqual(['body: Invalid input: expected object, received string']);
});

test('issueFields: field path → message, `(root)` for the whole value', () => {
  expect(issueFields(failed({ port: 1, hosts: [1] }))).toEqual({ 'hosts.0': 'Invalid input: expected string, received number' });
  expect(issueFields(failed(null))).toEqual({ '(root)': 'Invalid input: expected object, received null' });
});
