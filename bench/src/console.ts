// `npm run bench -- console [--runs=5]`
// The web console as the `fuze` binary serves it (`fuze serve --services admin`, embedded database):
// - its size: every file of the page, gzipped (goal: under 300 KB);
// - first load: from navigation in a fresh headless Chromium context (no cache) to the overview's
//   targets answered and drawn (goal: usable within 1 s on localhost), against the Swagger UI page
//   the same admin serves at /docs (to its title drawn), in the same run.

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startFuzeServe, stopChild } from './fuze-serve.js';
import { freePort, startBenchNatsServer } from './nats-server.js';
import { numberOption } from './options.js';
import { median } from './report.js';

const assets = fileURLToPath(new URL('../../packages/cli/console-assets/', import.meta.url));
const chromiumPath = process.env.FUZE_CHROMIUM ?? '/usr/bin/chromium';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

export async function run(args: string[]): Promise<void> {
  const runs = numberOption(args, 'runs', 5);
  const files = filesUnder(assets);
  const raw = files.reduce((n, f) => n + statSync(f).size, 0);
  const gzipped = files.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
  console.log(
    `console bundle: ${files.length} files, ${(raw / 1024).toFixed(1)} KB, ${(gzipped / 1024).toFixed(1)} KB gzipped` +
      `   goal < 300 KB gzipped: ${gzipped < 300 * 1024 ? 'met' : 'MISSED'}`,
  );

  const nats = await startBenchNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'fuze-bench-console-'));
  const adminPort = await freePort();
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const fuze = await startFuzeServe({
    natsUrl: nats.url,
    prefix: 'CONB',
    dir,
    services: 'admin',
    env: { FUZE_ADMIN_PORT: String(adminPort) },
  });
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  /** ms from navigation to `selector` visible, in a fresh context (empty cache). */
  const load = async (path: string, selector: string) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const started = performance.now();
    await page.goto(`${adminUrl}${path}`);
    await page.locator(selector).first().waitFor({ state: 'visible' });
    const ms = performance.now() - started;
    await context.close();
    return ms;
  };
  try {
    await load('/console/', 'h2:text("Targets") ~ p, h2:text("Targets") ~ table'); // warm-up
    await load('/docs', '.swagger-ui .info .title');
    const consoleMs: number[] = [];
    const swaggerMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      consoleMs.push(await load('/console/', 'h2:text("Targets") ~ p, h2:text("Targets") ~ table'));
      swaggerMs.push(await load('/docs', '.swagger-ui .info .title'));
    }
    const c = median(consoleMs);
    const s = median(swaggerMs);
    const list = (values: number[]) => values.map((v) => v.toFixed(0)).join(', ');
    console.log(
      `console first load (overview drawn)   ${c.toFixed(0).padStart(6)} ms (runs: ${list(consoleMs)})`,
    );
    console.log(
      `Swagger UI at /docs (title drawn)     ${s.toFixed(0).padStart(6)} ms (runs: ${list(swaggerMs)})`,
    );
    console.log(
      `ratio ${(c / s).toFixed(2)}x  console / Swagger UI   goal: console usable within 1000 ms: ${c < 1000 ? 'met' : 'MISSED'}`,
    );
  } finally {
    await browser.close();
    await stopChild(fuze);
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
