/** One JSON shape for every error answer: `{ error, reason, fields? }`. */
import type { Response } from 'express';
import type { z } from 'zod';
import { issueFields } from '../lib/zod-issues';

export function sendError(
  res: Response,
  status: number,
  error: string,
  reason: string,
  fields?: Record<string, string>,
): void {
  res.status(status).json(errorBody(error, reason, fields));
}

/** The error answer's body, for a response written without Express (api/webhook-intake.ts). */
export function errorBody(error: string, reason: string, fields?: Record<string, string>): { error: string; reason: string; fields?: Record<string, string> } {
  return fields ? { error, reason, fields } : { error, reason };
}

/** Field path → message, for a 400 that says exactly which field is wrong (lib/zod-issues.ts's `issueFields`). */
export const zodFieldErrors: (error: z.ZodError) => Record<string, string> = issueFields;

/** The 400 for input that failed its schema: `fields` names each bad field (one place for that answer). */
export function sendInvalid(res: Response, error: string, reason: string, zodError: z.ZodError): void {
  sendError(res, 400, error, reason, issueFields(zodError));
}
