/**
 * Time buckets for the console's charts: a range cut into equal steps (a minute, an hour or a UTC
 * day), its first bucket starting on a step boundary. The data modules group their rows with
 * `bucketOf(column)` (PostgreSQL's date_bin over the same origin), and `bucketStarts` lists every
 * bucket, so a chart has one point per step even where nothing happened.
 */

export const bucketSteps = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
export type BucketSize = keyof typeof bucketSteps;

export interface TimeBuckets {
  size: BucketSize;
  /** The first bucket's start: `from` rounded down to the step (UTC). */
  start: Date;
  /** The range's end (exclusive). */
  end: Date;
  stepMs: number;
}

/** The range `from`..`to` in `size` steps. */
export function timeBuckets(from: Date, to: Date, size: BucketSize): TimeBuckets {
  const stepMs = bucketSteps[size];
  return { size, start: new Date(Math.floor(from.getTime() / stepMs) * stepMs), end: to, stepMs };
}

/** How many buckets the range holds (the last one may be partial). */
export function bucketCount(buckets: TimeBuckets): number {
  return Math.ceil((buckets.end.getTime() - buckets.start.getTime()) / buckets.stepMs);
}

/** Every bucket's start, oldest first. */
export function bucketStarts(buckets: TimeBuckets): Date[] {
  return Array.from({ length: bucketCount(buckets) }, (_, i) => new Date(buckets.start.getTime() + i * buckets.stepMs));
}

/** The index of the bucket a bucket start (from bucketOf) names, or -1 outside the range. */
export function bucketIndex(buckets: TimeBuckets, bucketStart: Date): number {
  const i = Math.round((bucketStart.getTime() - buckets.start.getTime()) / buckets.stepMs);
  return i >= 0 && i < bucketCount(buckets) ? i : -1;
}

/**
 * SQL: the bucket start of a timestamp column, with the query's parameters `$1` = start, `$2` =
 * end and `$3` = step in milliseconds (`bucketParams` gives them in that order).
 */
export function bucketOf(column: string): string {
  return `date_bin(make_interval(secs => $3::bigint / 1000.0), ${column}, $1::timestamptz)`;
}

/** The WHERE condition on a timestamp column for the range (same parameters as bucketOf). */
export function inRange(column: string): string {
  return `${column} >= $1::timestamptz AND ${column} < $2::timestamptz`;
}

export function bucketParams(buckets: TimeBuckets): [Date, Date, number] {
  return [buckets.start, buckets.end, buckets.stepMs];
}
