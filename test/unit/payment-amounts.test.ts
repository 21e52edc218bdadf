/**
 * The pure parts of the payment failover: minor units ↔ PayPal's decimal strings (zero-, two- and
 * three-decimal currencies, and the ones PayPal takes without decimals), the order body the PayPal
 * adapter sends, and how PayPal's error bodies are read.
 */
import { classifyProviderError } from '../../providers/core/classify';
import { orderRequestBody } from '../../providers/paypal/adapter';
import { AmountConversionError, fromPayPalAmount, minorUnitDigits, toPayPalAmount } from '../../providers/core/payment-params';
import { errorBodies, providerErrorBody } from '../../providers';

describe('minor units → PayPal amount', () => {
  test.each([
    [4200, 'usd', 'USD', '42.00'],
    [5, 'eur', 'EUR', '0.05'],
    [100, 'gbp', 'GBP', '1.00'],
    [500, 'jpy', 'JPY', '500'],
    [1, 'JPY', 'JPY', '1'],
    [15000, 'krw', 'KRW', '15000'],
    [1234, 'kwd', 'KWD', '1.234'],
    [50000, 'huf', 'HUF', '500'],
    [12300, 'twd', 'TWD', '123'],
  ])('%i %s → %s %s', (amount, currency, code, value) => {
    expect(toPayPalAmount(amount, currency)).toEqual({ currency_code: code, value });
    expect(fromPayPalAmount(value, currency)).toBe(amount);
  });

  test('an amount PayPal cannot express exactly is refused, not rounded', () => {
    expect(() => toPayPalAmount(12345, 'huf')).toThrow(AmountConversionError);
    expect(() => toPayPalAmount(1.5, 'usd')).toThrow(AmountConversionError);
    expect(() => toPayPalAmount(-1, 'usd')).toThrow(AmountConversionError);
  });

  test('large amounts keep every digit (no float arithmetic)', () => {
    expect(toPayPalAmount(999_999_999_999, 'usd').value).toBe('9999999999.99');
    expect(fromPayPalAmount('9999999999.99', 'usd')).toBe(999_999_999_999);
  });

  test('PayPal values back to minor units; unparseable or over-precise values give null', () => {
    expect(fromPayPalAmount('42', 'usd')).toBe(4200);
    expect(fromPayPalAmount('42.5', 'usd')).toBe(4250);
    expect(fromPayPalAmount('500.00', 'jpy')).toBe(500);
    expect(fromPayPalAmount('500.50', 'jpy')).toBeNull();
    expect(fromPayPalAmount('1,00', 'usd')).toBeNull();
    expect(fromPayPalAmount('-1.00', 'usd')).toBeNull();
  });

  test('minor-unit digits follow Stripe', () => {
    expect([minorUnitDigits('usd'), minorUnitDigits('JPY'), minorUnitDigits('bhd'), minorUnitDigits('huf')]).toEqual([2, 0, 3, 2]);
  });
});

test('the order body: intent CAPTURE, one purchase unit, the booking as custom_id, a vaulted source when given', () => {
  const amount = { currency_code: 'USD', value: '42.00' };
  expect(orderRequestBody({ amount: 4200, currency: 'usd', description: 'Haircut', metadata: { booking: 'booking:t:1' } }, amount)).toEqual({
    intent: 'CAPTURE',
    purchase_units: [{ reference_id: 'default', amount, description: 'Haircut', custom_id: 'booking:t:1' }],
  });
  expect(orderRequestBody({ amount: 4200, currency: 'usd', paypalVaultId: 'vault-1' }, amount)).toEqual({
    intent: 'CAPTURE',
    purchase_units: [{ reference_id: 'default', amount }],
    payment_source: { paypal: { vault_id: 'vault-1' } },
  });
});

describe('PayPal error bodies', () => {
  test('REST errors: the first detail issue is the code, debug_id kept in the message', () => {
    const body = {
      name: 'UNPROCESSABLE_ENTITY',
      message: 'The requested action could not be performed.',
      debug_id: 'abc123',
      details: [{ issue: 'INSTRUMENT_DECLINED', description: 'The instrument presented was declined.' }],
    };
    expect(providerErrorBody('paypal', body)).toEqual({ code: 'INSTRUMENT_DECLINED', message: 'The instrument presented was declined. (debug_id abc123)' });
    const failure = classifyProviderError({ provider: 'paypal', errorBody: errorBodies['paypal'], operation: 'charge', status: 422, body });
    expect(failure).toMatchObject({ type: 'ProviderRejected', nonRetryable: true });
    expect(failure.message).toMatch(/^paypal charge: 422 INSTRUMENT_DECLINED: /);
  });

  test('errors without details use the name; OAuth errors their error field', () => {
    expect(providerErrorBody('paypal', { name: 'INTERNAL_SERVER_ERROR', message: 'An internal server error has occurred.', details: [] }).code).toBe(
      'INTERNAL_SERVER_ERROR',
    );
    expect(providerErrorBody('paypal', { error: 'invalid_client', error_description: 'Client Authentication failed' })).toEqual({
      code: 'invalid_client',
      message: 'Client Authentication failed',
    });
  });

  test('5xx and 429 stay retryable', () => {
    const body = { name: 'RATE_LIMIT_REACHED', message: 'Too many requests.', debug_id: 'x', details: [] };
    expect(classifyProviderError({ provider: 'paypal', errorBody: errorBodies['paypal'], operation: 'charge', status: 429, body, headers: { 'retry-after': '3' } })).toMatchObject({
      type: 'ProviderThrottled',
      nonRetryable: false,
      nextRetryDelay: 3000,
    });
    expect(classifyProviderError({ provider: 'paypal', errorBody: errorBodies['paypal'], operation: 'charge', status: 503, body })).toMatchObject({
      type: 'ProviderUnavailable',
      nonRetryable: false,
    });
  });
});
