/** What every page gets, and what it declares: its permission and the stream topics that refresh it. */
import type { Api, Session } from './api';

export interface PageContext {
  api: Api;
  session: Session;
  /** Whether the signed-in role has an api/access.ts permission (buttons it cannot use are hidden). */
  may: (permission: string) => boolean;
  /** Path segments after the page's own (`#/events/<id>` → [id]). */
  params: string[];
  /** The hash's query (`#/events?status=failed`), where a page keeps its filters. */
  query: URLSearchParams;
  /** Changes the hash's query (the page re-renders with it). */
  setQuery: (values: Record<string, string>) => void;
  /** Renders the page again (after an action). */
  refresh: () => void;
  /** A link that opens a workflow in the Temporal Web UI. */
  workflowLink: (workflowId: string) => HTMLAnchorElement;
  notify: (message: string, kind?: 'info' | 'error') => void;
}

export interface Page {
  title: string;
  /** The permission needed to see the page at all. */
  permission: string;
  /** Stream topics after which the page re-reads its data (no polling). */
  topics: string[];
  render(ctx: PageContext): Promise<HTMLElement>;
}
