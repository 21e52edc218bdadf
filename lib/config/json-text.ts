/**
 * A JSON value given as text (an environment variable or a config file's string): parsed, or one
 * issue naming the shape expected. Never the parser's own message: it quotes the text, which may
 * hold secrets (webhook tokens).
 */
import { z } from 'zod';

export const jsonText = (expected: string) =>
  z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be a JSON object ${expected}` });
      return z.NEVER;
    }
  });
