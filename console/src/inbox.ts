/**
 * The webhook inbox indicator: how many accepted webhooks wait for their workflow start, and how
 * long the oldest has waited (GET /health/detailed `checks.inbox`, system-wide counts only). Past
 * 60 s it turns to a warning and past 300 s to critical, as the WebhookInboxBacklog and
 * WebhookInboxStalled alerts (ops/alert-rules.yml). No stream topic tells of the inbox: it is read
 * again every INBOX_REFRESH_MS while it is on the screen.
 */
import type { Api } from './api';
import { duration, h } from './dom';

/** The oldest wait past which the indicator warns (WebhookInboxBacklog's threshold). */
export const INBOX_WARN_SECONDS = 60;
/** …and past which it is critical (WebhookInboxStalled's). */
export const INBOX_CRITICAL_SECONDS = 300;
export const INBOX_REFRESH_MS = 15_000;

type InboxState = 'reading' | 'ok' | 'warn' | 'critical' | 'unknown';

/** The indicator, read now and every INBOX_REFRESH_MS until it leaves the page. */
export function inboxIndicator(api: Api): HTMLElement {
  const el = h('p', { class: 'inbox reading', role: 'status', 'data-testid': 'inbox', 'data-state': 'reading' }, 'Webhook inbox: reading…');
  const show = (state: InboxState, ...children: Array<Node | string>) => {
    el.className = `inbox ${state}`;
    el.dataset.state = state;
    el.replaceChildren('Webhook inbox: ', ...children);
  };
  const read = async () => {
    try {
      const inbox = (await api.detailedHealth()).checks.inbox;
      if (!inbox?.ok || inbox.unstarted === undefined || inbox.oldestAgeSeconds === undefined) {
        show('unknown', `unknown${inbox?.error ? ` (${inbox.error})` : ''}`);
        return;
      }
      const { unstarted, oldestAgeSeconds: oldest } = inbox;
      el.dataset.unstarted = String(unstarted);
      el.dataset.oldestSeconds = String(oldest);
      el.title = 'Webhooks accepted (answered 2xx) whose workflow no worker has started yet; they start once a worker drains them.';
      if (unstarted === 0) {
        show('ok', h('strong', {}, 'no webhook waiting'));
        return;
      }
      const state: InboxState = oldest > INBOX_CRITICAL_SECONDS ? 'critical' : oldest > INBOX_WARN_SECONDS ? 'warn' : 'ok';
      show(state, h('strong', {}, `${unstarted} waiting`), ' for their workflow start · oldest ', h('strong', {}, duration(oldest)), state === 'ok' ? '' : ' (are the workers running?)');
    } catch (err) {
      show('unknown', `unknown (${err instanceof Error ? err.message : String(err)})`);
    }
  };
  void read();
  const timer = window.setInterval(() => {
    if (el.isConnected) void read();
    else window.clearInterval(timer);
  }, INBOX_REFRESH_MS);
  return el;
}
