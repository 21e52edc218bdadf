/**
 * Payments (`payments`): one row per (tenant, provider, payment id), written by the payment
 * webhook handlers (Stripe's `payment_intent.succeeded`) and inserted once however often the
 * event is redelivered.
 */
import type { Pool } from 'pg';

export interface PaymentRecord {
  tenant: string;
  provider: string;
  paymentId: string;
  amount: number;
  currency: string;
  status: string;
  customer: string | null;
  sourceEventId: string;
}

/** Inserts the payment unless it is recorded; true when this call recorded it. */
export async function insertPayment(pool: Pick<Pool, 'query'>, payment: PaymentRecord): Promise<boolean> {
  const result = await pool.query(
    `INSERT INTO payments (tenant, provider, payment_id, amount, currency, status, customer, source_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (tenant, provider, payment_id) DO NOTHING`,
    [payment.tenant, payment.provider, payment.paymentId, payment.amount, payment.currency, payment.status, payment.customer, payment.sourceEventId],
  );
  return result.rowCount === 1;
}
