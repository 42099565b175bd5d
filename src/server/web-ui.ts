/**
 * Serves the built web UI (web/dist, made by `npm run build:web`) at `/`: hashed assets with a
 * long cache life, and `index.html` for any other GET of a page (the single-page app's own
 * routes, so a deep link survives a reload). The API, the gateway, health and metrics are never
 * shadowed: their paths are not pages, and an unknown one among them stays a JSON 404.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build:web` writes the UI: `web/dist` at the package root (from src/server or dist/server). */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/**
 * Paths that are never pages: the API, the gateway, operations, and the built assets (a missing
 * script is a 404, not the app's HTML under a .js name). Page paths may end in anything a name or
 * a version does (`/models/acme/bot/-/versions/1.0.0`), so they are not told apart by extension.
 */
const NOT_PAGES = /^\/(api|v1|assets)(\/|$)|^\/(healthz|readyz|metrics)(\/|\?|$)/;

/** Whether a request that matched no route is the browser asking for one of the UI's pages. */
export function isPageRequest(method: string, url: string, accept: string | undefined): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = url.split('?')[0]!;
  if (NOT_PAGES.test(path)) return false;
  return (accept ?? '').includes('text/html');
}

/** Registers the UI's files when they are built (else null: the API alone); returns the fallback for page requests. */
export function registerWebUi(app: FastifyInstance, root: string): ((req: FastifyRequest, reply: FastifyReply) => boolean) | null {
  if (!fs.existsSync(`${root}/index.html`)) return null;
  // Loaded with the app's other plugins before it listens; sendFile exists by the first request.
  void app.register(fastifyStatic, {
    root,
    // One route per built file, found at start-up: every other path falls through to the
    // not-found handler, which serves index.html for pages and the JSON envelope for the rest.
    wildcard: false,
    index: false,
    setHeaders: (reply, file) => {
      // Vite names assets by content hash: they never change under one name.
      void reply.header('cache-control', file.includes(`${root.replace(/\/$/, '')}/assets/`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  return (req, reply) => {
    if (!isPageRequest(req.method, req.url, req.headers.accept)) return false;
    void reply.header('cache-control', 'no-cache').sendFile('index.html');
    return true;
  };
}
