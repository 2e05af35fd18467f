import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { FuzeError } from '@fuze/core';
import type { FastifyInstance } from 'fastify';

/**
 * Where the console's built files are: `console-assets/` beside this package's `src/` or `dist/`,
 * and beside the fuze binary's `dist/` (its build copies them there), one level up either way.
 */
export const consoleAssetsFolder = fileURLToPath(new URL('../console-assets/', import.meta.url));

// The console is one page and its hashed assets, all from this origin: nothing else may load.
const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The web console at /console/: static files and its settings (FUZE_TRACE_URL), no auth of their
 * own (they hold no data); every call the page makes goes to the admin API with the token the
 * operator enters, and each needs the scope its route needs.
 */
export async function consoleRoutes(
  app: FastifyInstance,
  options: { folder?: string; traceUrl?: string | undefined } = {},
): Promise<void> {
  const folder = options.folder ?? consoleAssetsFolder;
  app.get('/console', { schema: { hide: true } }, (_request, reply) => reply.redirect('/console/', 308));
  // What the page needs of the server's configuration; nothing secret.
  app.get('/console/settings.json', { schema: { hide: true } }, async () => ({
    traceUrl: options.traceUrl ?? null,
  }));
  if (!existsSync(`${folder}/index.html`)) {
    app.get('/console/*', { schema: { hide: true } }, async () => {
      throw new FuzeError(
        'FUZE_NOT_FOUND',
        `the web console is not in this build (no ${folder}index.html): run \`npm run build\`, or install the published fuze package`,
      );
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: folder,
    prefix: '/console/',
    decorateReply: false,
    schemaHide: true,
    cacheControl: false,
    // Assets have content hashes in their names and never change; the page must be fetched anew.
    setHeaders(res, path) {
      res.setHeader('content-security-policy', contentSecurityPolicy);
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
}
