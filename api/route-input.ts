/**
 * Request text that ends up as a PostgreSQL parameter. PostgreSQL text cannot hold NUL (U+0000):
 * the driver's error would surface as a 500 for what is only bad input. No stored id or filter
 * can contain one, so routes refuse it up front like any other unknown id or invalid filter.
 */
import type { Request, Response, NextFunction } from 'express';
import { z } from 'zod';
import { sendError } from './errors';

export function storableText(value: string): boolean {
  return !value.includes('\u0000');
}

/** A zod string PostgreSQL can store. */
export const storableString = () => z.string().refine(storableText, 'must not contain NUL characters');

/** For `router.param`: an id PostgreSQL cannot hold names nothing, so it answers 404. */
export function unknownIfUnstorable(what: string) {
  return (_req: Request, res: Response, next: NextFunction, value: string): void => {
    if (storableText(value)) next();
    else sendError(res, 404, 'not_found', `no ${what} with that id`);
  };
}
