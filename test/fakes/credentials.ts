/**
 * Credentials the fake providers accept: used by the tests and by `npm start` for every provider
 * that has no real credentials configured. Never real values.
 */
export const fakeCredentials: Readonly<Record<string, string>> = {
  STRIPE_API_KEY: 'sk_test_switchyard_fake',
  PAYPAL_CLIENT_ID: 'fake-paypal-client-id',
  PAYPAL_CLIENT_SECRET: 'fake-paypal-client-secret',
  TWILIO_ACCOUNT_SID: 'ACfake00000000000000000000000000',
  TWILIO_AUTH_TOKEN: 'fake-twilio-token',
  TWILIO_FROM_NUMBER: '+15005550006',
  TWILIO_NOTIFY_SERVICE_SID: 'ISfake00000000000000000000000000',
  VONAGE_API_KEY: 'fakekey',
  VONAGE_API_SECRET: 'fakesecret',
  VONAGE_FROM: 'Switchyard',
  SENDGRID_API_KEY: 'SG.fake-key',
  GOOGLE_ACCESS_TOKEN: 'ya29.fake-token',
  GOOGLE_REFRESH_TOKEN: '1//fake-google-refresh-token',
  GOOGLE_CLIENT_ID: 'fake-google-client.apps.googleusercontent.com',
  GOOGLE_CLIENT_SECRET: 'fake-google-client-secret',
  GOOGLE_MAPS_API_KEY: 'AIzaFakeSwitchyardMapsKey',
  YANDEX_MAPS_API_KEY: 'fake-yandex-geocoder-key',
  HTTPBIN_TOKEN: 'fake-bearer',
  OPENAI_API_KEY: 'sk-fake-switchyard-openai',
  // The fake OAuth client's refresh token (test/fakes/providers/google-sheets.ts), as for Calendar.
  GOOGLE_MY_BUSINESS_REFRESH_TOKEN: '1//fake-google-refresh-token',
  GOOGLE_MY_BUSINESS_ACCESS_TOKEN: 'ya29.fake-business-token',
  AIRTABLE_ACCESS_TOKEN: 'patFakeSwitchyard.0123456789abcdef',
  WHATSAPP_ACCESS_TOKEN: 'EAAfakeSwitchyardWhatsappToken',
  WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
  RESEND_API_KEY: 're_fake_switchyard',
  RAZORPAY_KEY_ID: 'rzp_test_fake',
  RAZORPAY_KEY_SECRET: 'fake-razorpay-secret',
  CLOUDFLARE_API_TOKEN: 'fake-cloudflare-token',
  DIGITALOCEAN_TOKEN: 'dop_v1_fake',
  SYNTHESIA_API_KEY: 'fake-synthesia-key',
  LINKEDIN_ACCESS_TOKEN: 'fake-linkedin-token',
  FACEBOOK_ACCESS_TOKEN: 'EAAfakeSwitchyardFacebookToken',
};
