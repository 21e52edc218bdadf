/**
 * The `charge` and `refundCharge` params every payment provider accepts, in one place: a charge
 * that fails over from Stripe to PayPal keeps its params unchanged. Amounts are integers in the
 * currency's minor unit as Stripe counts it (cents; yen for JPY), so callers never handle decimal
 * strings; the conversion to PayPal's decimal `value` lives here, next to the currency tables.
 */
import { z } from 'zod';

const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'a three-letter ISO currency code')
  .toLowerCase();

export const chargeParams = z.object({
  /** In the currency's minor unit (Stripe's convention): 4200 = 42.00 USD, 500 = 500 JPY. */
  amount: z.number().int().positive(),
  currency,
  /** Stripe customer id; other providers do not know it and leave it out. */
  customer: z.string().min(1).optional(),
  description: z.string().max(127).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  /** PayPal vault id of the payer's saved PayPal wallet: lets the order be captured without a redirect. */
  paypalVaultId: z.string().min(1).optional(),
});
export type ChargeParams = z.infer<typeof chargeParams>;

export const refundChargeParams = z.object({
  /** The `chargeId` the provider's `charge` answered (Stripe payment intent, PayPal capture). */
  chargeId: z.string().min(1),
  /** Partial refund, in minor units (needs `currency`); absent: the whole charge. */
  amount: z.number().int().positive().optional(),
  currency: currency.optional(),
});
export type RefundChargeParams = z.infer<typeof refundChargeParams>;

/** Currencies Stripe counts in whole units (https://docs.stripe.com/currencies#zero-decimal). */
const stripeZeroDecimal = new Set([
  'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf',
]);
/** Currencies Stripe counts in thousandths. */
const stripeThreeDecimal = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);
/** Currencies PayPal accepts only without decimals (Stripe counts HUF and TWD in hundredths). */
const paypalNoDecimals = new Set(['huf', 'jpy', 'twd']);

/** Digits after the decimal point in Stripe's minor unit of this currency. */
export function minorUnitDigits(currencyCode: string): number {
  const code = currencyCode.toLowerCase();
  if (stripeZeroDecimal.has(code)) return 0;
  if (stripeThreeDecimal.has(code)) return 3;
  return 2;
}

/** Digits after the decimal point PayPal accepts in an amount `value` of this currency. */
function paypalDigits(currencyCode: string): number {
  return paypalNoDecimals.has(currencyCode.toLowerCase()) ? 0 : minorUnitDigits(currencyCode);
}

export class AmountConversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AmountConversionError';
  }
}

/**
 * Minor units → PayPal's `{currency_code, value}`: 4200 USD → "42.00", 500 JPY → "500",
 * 1234 KWD → "1.234". Integer arithmetic on strings only, so no float ever rounds an amount; an
 * amount PayPal cannot express (HUF 12.34) is refused rather than rounded.
 */
export function toPayPalAmount(amount: number, currencyCode: string): { currency_code: string; value: string } {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new AmountConversionError(`amount must be a non-negative integer, got ${amount}`);
  const digits = minorUnitDigits(currencyCode);
  const wanted = paypalDigits(currencyCode);
  const padded = String(amount).padStart(digits + 1, '0');
  const whole = padded.slice(0, padded.length - digits);
  const fraction = padded.slice(padded.length - digits);
  if (/[^0]/.test(fraction.slice(wanted))) {
    throw new AmountConversionError(`${currencyCode.toUpperCase()} amounts at PayPal have ${wanted} decimals; ${amount} minor units cannot be charged exactly`);
  }
  const kept = fraction.slice(0, wanted);
  return { currency_code: currencyCode.toUpperCase(), value: kept === '' ? whole : `${whole}.${kept}` };
}

/** PayPal's decimal `value` → minor units (the inverse of toPayPalAmount); null when it does not parse. */
export function fromPayPalAmount(value: string, currencyCode: string): number | null {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) return null;
  const digits = minorUnitDigits(currencyCode);
  const fraction = match[2] ?? '';
  if (fraction.length > digits && /[^0]/.test(fraction.slice(digits))) return null;
  const minor = Number(`${match[1]}${fraction.slice(0, digits).padEnd(digits, '0')}`);
  return Number.isSafeInteger(minor) ? minor : null;
}
