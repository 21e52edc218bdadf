/**
 * What the simulated provider sends, decided up front from a seed so a run can be repeated:
 * first sends of distinct Stripe events, re-sends of some of them (at the same moment as the first
 * send, or later in the run) and deliveries with a bad signature, in one shuffled order.
 */
export type BadKind = 'wrong_secret' | 'tampered_body' | 'missing_header' | 'stale_timestamp';

export interface PlannedEvent {
  eventId: string;
  paymentId: string;
  body: string;
  /** Bad events are signed wrongly on every delivery; their ids are never sent with a good signature. */
  bad: BadKind | null;
}

export interface Delivery {
  event: PlannedEvent;
  kind: 'first' | 'duplicate_concurrent' | 'duplicate_later' | 'bad';
}

export interface DeliveryPlan {
  events: PlannedEvent[];
  deliveries: Delivery[];
  counts: { deliveries: number; firstSends: number; duplicates: number; duplicatesConcurrent: number; duplicatesLater: number; bad: number };
}

/** mulberry32: small, fast, seedable; plenty for picking positions. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const badKinds: BadKind[] = ['wrong_secret', 'tampered_body', 'missing_header', 'stale_timestamp'];

function stripeEventBody(eventId: string, paymentId: string, index: number): string {
  return JSON.stringify({
    id: eventId,
    object: 'event',
    api_version: '2025-01-27',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type: 'payment_intent.succeeded',
    data: {
      object: {
        id: paymentId,
        object: 'payment_intent',
        amount: 1000 + (index % 9000),
        amount_received: 1000 + (index % 9000),
        currency: 'usd',
        status: 'succeeded',
        customer: `cus_faults_${index % 97}`,
      },
    },
  });
}

export interface PlanOptions {
  events: number;
  duplicates: number;
  bad: number;
  concurrentDuplicates: number;
  /** Later duplicates come at least this many deliveries after their first send. */
  laterGap: number;
  seed: number;
  runId: string;
}

export function planDeliveries(options: PlanOptions): DeliveryPlan {
  const random = seededRandom(options.seed);
  const badCount = Math.round(options.events * options.bad);
  const duplicateCount = Math.round(options.events * options.duplicates);
  const firstCount = options.events - badCount - duplicateCount;

  const good: PlannedEvent[] = Array.from({ length: firstCount }, (_v, i) => {
    const eventId = `evt_${options.runId}_${i}`;
    const paymentId = `pi_${options.runId}_${i}`;
    return { eventId, paymentId, body: stripeEventBody(eventId, paymentId, i), bad: null };
  });
  const bad: PlannedEvent[] = Array.from({ length: badCount }, (_v, i) => {
    const eventId = `evt_${options.runId}_bad_${i}`;
    const paymentId = `pi_${options.runId}_bad_${i}`;
    return { eventId, paymentId, body: stripeEventBody(eventId, paymentId, i), bad: badKinds[i % badKinds.length]! };
  });

  // Positions: first sends and bad deliveries shuffled over [0, n); duplicates keyed after them.
  const base: Delivery[] = [...good.map((event) => ({ event, kind: 'first' as const })), ...bad.map((event) => ({ event, kind: 'bad' as const }))];
  for (let i = base.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [base[i], base[j]] = [base[j]!, base[i]!];
  }
  const keyed: { key: number; delivery: Delivery }[] = base.map((delivery, key) => ({ key, delivery }));
  const positionOf = new Map(keyed.map(({ key, delivery }) => [delivery.event.eventId, key]));
  const last = base.length;
  let concurrent = 0;
  for (let d = 0; d < duplicateCount; d++) {
    const event = good[Math.floor(random() * good.length)]!;
    const first = positionOf.get(event.eventId)!;
    if (random() < options.concurrentDuplicates) {
      // Right behind the first send: dispatched while it is still in flight.
      keyed.push({ key: first + 0.001 + random() * 0.001, delivery: { event, kind: 'duplicate_concurrent' } });
      concurrent++;
    } else {
      const earliest = Math.min(first + options.laterGap, last);
      keyed.push({ key: earliest + random() * (last - earliest) + 0.5, delivery: { event, kind: 'duplicate_later' } });
    }
  }
  keyed.sort((a, b) => a.key - b.key);
  return {
    events: [...good, ...bad],
    deliveries: keyed.map((k) => k.delivery),
    counts: {
      deliveries: keyed.length,
      firstSends: firstCount,
      duplicates: duplicateCount,
      duplicatesConcurrent: concurrent,
      duplicatesLater: duplicateCount - concurrent,
      bad: badCount,
    },
  };
}
