/**
 * Secret comparisons that take the same time whether the first or the last byte differs, so a
 * caller cannot recover a signature or token byte by byte from response times.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * For digests of a known size. Different lengths answer false at once: the length of a digest is
 * public (it is fixed by the algorithm), so revealing a mismatch in it leaks nothing.
 */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * For shared tokens of any length: both sides are hashed first so the comparison runs on equal
 * lengths and neither the token's length nor its content leaks through timing.
 */
export function tokensEqual(received: string, expected: string): boolean {
  const receivedDigest = createHash('sha256').update(received, 'utf8').digest();
  const expectedDigest = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(receivedDigest, expectedDigest);
}
