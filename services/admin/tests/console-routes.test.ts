import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@fuze/core';
import { createHttpApp } from '@fuze/http';
import { afterAll, expect, test } from 'vitest';
import { consoleRoutes } from '../src/console-routes.js';

const empty = mkdtempSync(join(tmpdir(), 'fuze-no-console-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

test('a build without the console files answers 404 problem+json saying how to get them', async () => {
  const app = createHttpApp({ logger: createLogger('silent') });
  app.register(consoleRoutes, { folder: `${empty}/` });
  const page = await app.inject({ method: 'GET', url: '/console/' });
  expect(page.statusCode).toBe(404);
  expect(page.headers['content-type']).toContain('application/problem+json');
  expect(page.json()).toMatchObject({ code: 'FUZE_NOT_FOUND' });
  expect(page.json().detail).toContain('the web console is not in this build');
  // The settings still answer: FUZE_TRACE_URL unset is null.
  expect((await app.inject({ method: 'GET', url: '/console/settings.json' })).json()).toEqual({
    traceUrl: null,
  });
  await app.close();
});
