/**
 * The console shell: sign-in (an API key or token, kept in sessionStorage), navigation limited to
 * what the role may see, hash routing, and one live stream whose events re-render the page that
 * shows their topic.
 */
import './style.css';
import { Api, ApiError, RateLimitedError, credentialStore, type Session, type StreamState } from './api';
import { h } from './dom';
import type { Page, PageContext } from './page';
import { providersPage } from './pages/providers';
import { alertsPage } from './pages/alerts';
import { budgetsPage } from './pages/budgets';
import { slaPage } from './pages/sla';
import { eventsPage } from './pages/events';
import { callsPage } from './pages/calls';
import { deliveriesPage } from './pages/deliveries';
import { volumePage } from './pages/volume';
import { sweepCharts } from './charts';

const pages: Record<string, Page> = {
  providers: providersPage,
  alerts: alertsPage,
  budgets: budgetsPage,
  sla: slaPage,
  events: eventsPage,
  calls: callsPage,
  deliveries: deliveriesPage,
  volume: volumePage,
};

const app = document.getElementById('app')!;
let streamAbort: AbortController | null = null;

function signInView(message?: string): void {
  streamAbort?.abort();
  const input = h('input', { type: 'password', name: 'credential', placeholder: 'sy_… API key or JWT', autocomplete: 'off', required: true, 'aria-label': 'API key or token' });
  const form = h(
    'form',
    { class: 'signin', onsubmit: (event: Event) => {
      event.preventDefault();
      const value = input.value.trim();
      if (value) void start(value);
    } },
    h('h1', {}, 'Switchyard console'),
    h('p', {}, 'Sign in with an API key or a token. What you see and can do is what the API allows your role.'),
    input,
    h('button', { type: 'submit' }, 'Sign in'),
    message ? h('p', { class: 'error', role: 'alert' }, message) : null,
  );
  app.replaceChildren(form);
  input.focus();
}

async function start(credential: string): Promise<void> {
  const api = new Api(credential);
  let session: Session;
  try {
    session = await api.whoami();
  } catch (err) {
    credentialStore.clear();
    signInView(err instanceof ApiError && err.status === 401 ? `Not signed in: ${err.reason}` : `The API did not answer: ${String(err)}`);
    return;
  }
  credentialStore.set(credential);
  shell(api, session);
}

function shell(api: Api, session: Session): void {
  const may = (permission: string) => session.permissions.includes(permission);
  const visible = Object.entries(pages).filter(([, page]) => may(page.permission));
  const live = h('span', { class: 'live off', 'data-testid': 'live', title: 'live updates from /stream' }, 'offline');
  const toast = h('div', { class: 'toast', role: 'status' });
  const nav = h('nav', {}, visible.map(([name, page]) => h('a', { href: `#/${name}`, 'data-page': name }, page.title)));
  const main = h('main', {});
  const signOut = h('button', { class: 'link', onclick: () => {
    credentialStore.clear();
    location.hash = '';
    signInView();
  } }, 'Sign out');
  app.replaceChildren(
    h('header', {}, h('strong', {}, 'Switchyard'), nav, h('span', { class: 'who', 'data-testid': 'who' }, `${session.tenant} · ${session.role}`), live, signOut),
    main,
    toast,
  );

  let current: { name: string; page: Page } | null = null;
  let rendering = 0;
  let refreshTimer: number | undefined;
  /** The one pending re-render after a 429's Retry-After. */
  let retryTimer: number | undefined;

  const notify = (message: string, kind: 'info' | 'error' = 'info') => {
    toast.textContent = message;
    toast.className = `toast show ${kind}`;
    window.setTimeout(() => (toast.className = 'toast'), 4000);
  };

  const route = (): { name: string; params: string[]; query: URLSearchParams } => {
    const [path = '', search = ''] = location.hash.replace(/^#\/?/, '').split('?');
    const [name = '', ...params] = path.split('/').map(decodeURIComponent);
    return { name, params, query: new URLSearchParams(search) };
  };

  async function render(): Promise<void> {
    const { name, params, query } = route();
    const entry = visible.find(([n]) => n === name);
    if (!entry) {
      const first = visible[0];
      if (first) location.hash = `#/${first[0]}`;
      else main.replaceChildren(h('p', {}, `The role "${session.role}" has no console pages.`));
      return;
    }
    const [, page] = entry;
    current = { name, page };
    for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.page === name);
    const ticket = ++rendering;
    window.clearTimeout(retryTimer);
    const ctx: PageContext = {
      api,
      session,
      may,
      params,
      query,
      setQuery(values) {
        const next = new URLSearchParams(Object.entries(values).filter(([, v]) => v !== ''));
        const path = [name, ...params].map(encodeURIComponent).join('/');
        location.hash = `#/${path}${next.toString() ? `?${next.toString()}` : ''}`;
      },
      refresh: () => void render(),
      workflowLink(workflowId) {
        const { uiUrl, namespace } = session.temporal;
        return h('a', { href: `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`, target: '_blank', rel: 'noopener', class: 'temporal-link' }, 'Open in Temporal Web UI');
      },
      notify,
    };
    try {
      const view = await page.render(ctx);
      if (ticket === rendering) main.replaceChildren(view);
      sweepCharts();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        credentialStore.clear();
        signInView(`Signed out: ${err.reason}`);
        return;
      }
      if (err instanceof RateLimitedError) {
        // Said as such, and read again once the API's Retry-After has passed (no reload needed).
        if (ticket !== rendering) return;
        const seconds = Math.ceil(err.retryAfterMs / 1000);
        main.replaceChildren(
          h('p', { class: 'error rate-limited', role: 'alert', 'data-testid': 'rate-limited' }, `Rate limited (429): the API asks to wait ${seconds} s; retrying then. ${err.reason}`),
        );
        retryTimer = window.setTimeout(() => void render(), err.retryAfterMs);
        return;
      }
      if (ticket === rendering) main.replaceChildren(h('p', { class: 'error', role: 'alert' }, err instanceof ApiError ? `${err.error}: ${err.reason}` : String(err)));
    }
  }

  window.onhashchange = () => void render();
  void render();

  // One stream for the session (roles without events:read have none); its events re-render the page showing their topic.
  streamAbort?.abort();
  if (may('events:read')) {
    const abort = new AbortController();
    streamAbort = abort;
    void api.stream(
      (topic) => {
        if (!current?.page.topics.includes(topic)) return;
        window.clearTimeout(refreshTimer);
        refreshTimer = window.setTimeout(() => void render(), 150);
      },
      (state: StreamState) => {
        const labels: Record<StreamState['kind'], string> = {
          live: 'live',
          offline: 'offline: reconnecting',
          stale: 'no updates: reconnecting',
          'rate-limited': 'rate limited (429): retrying',
          refused: 'no live stream (refused)',
        };
        live.textContent = state.kind === 'rate-limited' ? `${labels[state.kind]} in ${Math.ceil(state.retryAfterMs / 1000)} s` : labels[state.kind];
        live.className = `live ${state.kind === 'live' ? 'on' : state.kind === 'stale' ? 'off stale' : 'off'}`;
        live.dataset.state = state.kind;
        // Whatever happened while the stream was down is read again once it is back.
        if (state.kind === 'live') void render();
      },
      abort.signal,
    );
  } else {
    live.textContent = 'no live stream for this role';
  }
}

const saved = credentialStore.get();
if (saved) void start(saved);
else signInView();
