/**
 * Fake SendGrid v3 Mail Send: JSON in, 202 with an empty body and the message id only in the
 * X-Message-Id header, and SendGrid's `errors[]` bodies naming the offending field.
 */
import { STATUS_CODES } from 'node:http';
import { bearerToken, isRecord } from '../http-io';
import { randomString } from '../random-ids';
import { json, type ProviderModule } from './provider-module';

const ERRORS_HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';

interface SendGridError {
  message: string;
  field: string | null;
  help: string | null;
}

function hasEmail(value: unknown): boolean {
  return isRecord(value) && typeof value.email === 'string' && value.email !== '';
}

/** All problems at once, as SendGrid reports them. */
function mailErrors(body: unknown): SendGridError[] {
  const mail = isRecord(body) ? body : {};
  const errors: SendGridError[] = [];
  const personalizations = mail.personalizations;
  const hasRecipient =
    Array.isArray(personalizations) &&
    personalizations.length > 0 &&
    personalizations.every((p) => isRecord(p) && Array.isArray(p.to) && p.to.length > 0 && p.to.every(hasEmail));
  if (!hasRecipient) {
    errors.push({
      message: 'The personalizations field is required and must have at least one personalization with a to address.',
      field: 'personalizations',
      help: `${ERRORS_HELP}#message.personalizations`,
    });
  }
  if (!hasEmail(mail.from)) {
    errors.push({
      message: 'The from object must be provided for every email send. It is an object that requires the email parameter.',
      field: 'from.email',
      help: `${ERRORS_HELP}#message.from`,
    });
  }
  if (typeof mail.subject !== 'string' || mail.subject === '') {
    errors.push({
      message: 'The subject is required. You can get around this requirement if you use a template with a subject defined.',
      field: 'subject',
      help: `${ERRORS_HELP}#message.subject`,
    });
  }
  const content = mail.content;
  if (!Array.isArray(content) || content.length === 0 || !content.every((c) => isRecord(c) && typeof c.value === 'string')) {
    errors.push({
      message: 'Unless a valid template_id is provided, the content parameter is required.',
      field: 'content',
      help: `${ERRORS_HELP}#message.content`,
    });
  }
  return errors;
}

export const sendgrid: ProviderModule = {
  id: 'sendgrid',
  routes: [
    {
      // SendGrid's key scopes: the health probe. Faults on operation 'probe' (or on the whole provider) make it fail.
      method: 'GET',
      path: /^\/v3\/scopes$/,
      operation: 'probe',
      handle() {
        return json(200, { scopes: ['mail.send'] });
      },
    },
    {
      method: 'POST',
      path: /^\/v3\/mail\/send$/,
      operation: 'sendMail',
      handle(req, _params, state) {
        if (!bearerToken(req)?.startsWith('SG.')) {
          return json(401, {
            errors: [{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null }],
          });
        }
        const errors = mailErrors(req.body);
        if (errors.length > 0) return json(400, { errors });
        state.mails++;
        return { status: 202, headers: { 'X-Message-Id': randomString(22) } };
      },
    },
  ],
  faultBodies: {
    status: (status) => ({ errors: [{ message: (STATUS_CODES[status] ?? 'error').toLowerCase(), field: null, help: null }] }),
    rateLimit: () => ({ errors: [{ message: 'too many requests' }] }),
    validation: () => ({
      errors: [{ message: 'The subject is required.', field: 'subject', help: `${ERRORS_HELP}#message.subject` }],
    }),
  },
};
