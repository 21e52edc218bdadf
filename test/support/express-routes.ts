/**
 * Every `METHOD /path` the API app serves (`:param` form): its Express 5 routes, mounted prefixes
 * included, and the webhook intake's, which runs ahead of Express's routing (api/webhook-intake.ts).
 */
import type { Express } from 'express';
import { webhookRouteTemplates } from '../../api/webhook-intake';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: string;
}

export function expressRoutes(app: Express): string[] {
  const found = new Set<string>();
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) found.add(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, `${prefix}${typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : ''}`);
      }
    }
  };
  // Express 5 keeps its router on `app.router`; its layers are not part of the public types.
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  for (const template of webhookRouteTemplates) found.add(`POST ${template}`);
  return [...found].sort();
}
