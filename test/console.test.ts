import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  callApi,
  createTestDatabase,
  launchBrowser,
  makeTempDir,
  type NatsServerHandle,
  removeTempDir,
  type ServedFuze,
  serveFuze,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { CloudEvent, HTTP } from 'cloudevents';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * The web console in headless Chromium against a real `fuze serve` (every service, real NATS and
 * Postgres, an admin token): an operator logs in, watches an event fail into the DLQ, opens and
 * replays it, reads the overview's rates, tests an event against the rules, tails the bus, fires
 * and cancels a timer, counts an archive replay and purges; an API key without a scope is told so. With FUZE_CONSOLE_SCREENSHOTS=1 each view is saved to docs/console/ for
 * docs/console.md.
 */
const token = 'console-test-admin-token';
const auth = { authorization: `Bearer ${token}` };
const screenshotsFolder = new URL('../docs/console/', import.meta.url);
const takeScreenshots = process.env['FUZE_CONSOLE_SCREENSHOTS'] === '1';

let nats: NatsServerHandle;
let db: TestDatabase;
let dataDir: string;
let fuze: ServedFuze;
let browser: Browser;
let page: Page;

/** The billing service: answers 503 until `receiver.up`, and keeps the ids it took. */
const receiver = { up: false, received: [] as string[], server: undefined as Server | undefined, url: '' };

const rules = (url: string) => `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: orders }
spec:
  pattern: { type: [com.shop.order.created] }
  targets:
    - name: billing
      http: { url: "${url}" }
      retry: { maxAttempts: 2, initialDelay: 100ms, maxDelay: 200ms }
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: refunds }
spec:
  pattern: { type: [com.shop.refund.issued], source: [payments] }
  targets:
    - name: ledger
      http: { url: "${url}" }
`;

async function publish(id: string, type: string, headers: Record<string, string> = {}): Promise<void> {
  const message = HTTP.binary(new CloudEvent({ id, source: 'shop', type, data: { orderId: id } }));
  const res = await fetch(`${fuze.gatewayUrl}/v1/events`, {
    method: 'POST',
    headers: { ...(message.headers as Record<string, string>), ...auth, ...headers },
    body: message.body as string,
  });
  expect(res.status).toBe(202);
}

/** Waits until the locator's text matches (the views poll the API every few seconds). */
async function textOf(locator: Locator, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return waitFor(
    async () => {
      const text = (await locator.first().textContent({ timeout: 1_000 })) ?? '';
      return pattern.test(text) ? text : undefined;
    },
    { timeoutMs, intervalMs: 200, message: `text matching ${pattern}` },
  );
}

async function screenshot(name: string): Promise<void> {
  if (!takeScreenshots) return;
  mkdirSync(screenshotsFolder, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, screenshotsFolder).pathname, fullPage: true });
}

beforeAll(async () => {
  receiver.server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      if (!receiver.up) {
        res.writeHead(503).end('billing is down');
        return;
      }
      receiver.received.push(String(req.headers['ce-id'] ?? JSON.parse(body || '{}').id));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.server!.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/events`;

  nats = await startNatsServer();
  db = await createTestDatabase();
  dataDir = await makeTempDir('fuze-console-');
  fuze = await serveFuze({
    FUZE_NATS_URL: nats.url,
    FUZE_DATABASE_URL: db.url,
    FUZE_DATA_DIR: dataDir,
    FUZE_STREAM_PREFIX: 'CON',
    FUZE_ADMIN_TOKEN: token,
    FUZE_TRACE_URL: 'http://traces.example/trace/{traceId}',
  });
  const applied = await callApi(
    fuze.adminUrl,
    'POST',
    '/v1/apply',
    { files: [{ path: 'rules.yaml', content: rules(receiver.url) }] },
    auth,
  );
  expect(applied.status, JSON.stringify(applied.body)).toBe(200);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await fuze?.stop();
  await nats?.[Symbol.asyncDispose]();
  await db?.drop();
  if (dataDir) await removeTempDir(dataDir);
  receiver.server?.close();
});

describe.sequential('the web console, in Chromium', () => {
  test('serves the page with a strict content security policy; the API still wants the token', async () => {
    const res = await fetch(`${fuze.adminUrl}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await res.text()).toContain('<div id="app">');
    expect((await fetch(`${fuze.adminUrl}/console`, { redirect: 'manual' })).headers.get('location')).toBe(
      '/console/',
    );
    expect((await fetch(`${fuze.adminUrl}/v1/targets`)).status).toBe(401);
  });

  test('logs in (with the keyboard alone): a wrong token is refused with the server’s reason; the right one opens the overview', async () => {
    const started = Date.now();
    await page.goto(`${fuze.adminUrl}/console/`);
    await page.getByLabel('Admin token or API key').waitFor();
    console.info(`console: login form shown ${Date.now() - started} ms after navigation started`);
    await screenshot('login');
    await page.getByLabel('Admin token or API key').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await textOf(page.getByRole('alert'), /not valid/)).toContain('the bearer token is not valid');
    // With the keyboard alone: the token, Enter; then Tab to a section and Enter.
    await page.getByLabel('Admin token or API key').fill('');
    await page.getByLabel('Admin token or API key').focus();
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Overview' }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Rules', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await textOf(page.locator('tr[data-target="billing"]'), /billing\s*http\s*default\/orders/);
    await textOf(page.locator('tr[data-target="billing"] [data-testid="workers"]'), /^[1-9]/); // a worker reports
    // The token stays for the tab: a reload does not ask again.
    await page.reload();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  });

  test('a dead-lettered event appears; opened and replayed, the bar reaches 100% and the event arrives', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await publish('order-1', 'com.shop.order.created', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    await page.getByRole('link', { name: 'Dead letters' }).click();
    await page.getByRole('heading', { name: 'Dead letters' }).waitFor();
    const row = page.locator('table.dead-letters tbody tr', { hasText: 'com.shop.order.created' });
    await textOf(row, /billing.*orders.*503/, 60_000);
    await screenshot('dead-letters');
    // The overview counts it in the target's DLQ depth.
    await page.getByRole('link', { name: 'Overview' }).click();
    await textOf(page.locator('tr[data-target="billing"] [data-testid="dlq-depth"]'), /^1$/);
    await page.getByRole('link', { name: 'Dead letters' }).click();
    await row.getByRole('link').click();
    expect(await textOf(page.getByTestId('dead-letter-state'), /dead/)).toBe('dead');
    expect(await page.locator('pre').first().textContent()).toContain('order-1');
    // FUZE_TRACE_URL makes the trace id a link to the trace UI.
    expect(await page.getByRole('link', { name: traceId }).getAttribute('href')).toBe(
      `http://traces.example/trace/${traceId}`,
    );

    receiver.up = true;
    await page.getByRole('button', { name: 'Replay this event' }).click();
    await textOf(page.getByTestId('progress-percent'), /^100%$/);
    expect(await textOf(page.locator('.replay-job'), /completed/)).toMatch(/1 of 1 done/);
    await waitFor(() => receiver.received.includes('order-1'), {
      timeoutMs: 30_000,
      message: 'order-1 delivered',
    });
    await textOf(page.getByTestId('dead-letter-state'), /replayed/);
    await screenshot('dead-letter');
  });

  test('the overview charts the bus’s events and the target’s deliveries while events flow, with their latency', async () => {
    await page.getByRole('link', { name: 'Overview' }).click();
    let flowing = true;
    let n = 0;
    const publishing = (async () => {
      while (flowing) {
        await publish(`flow-${++n}`, 'com.shop.order.created');
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await textOf(page.locator('tr[data-bus="default"] td').nth(1), /^(?!0\.0)\d+\.\d$/);
      const billing = page.locator('tr[data-target="billing"]');
      await textOf(billing.locator('td').nth(3), /^(?!0\.0)\d+\.\d$/); // delivered/s
      await textOf(billing.locator('td').nth(5), /^\d+ \/ \d+ ms$/); // latency p50 / p99
      expect(await billing.locator('[data-testid="dlq-depth"]').textContent()).toBe('0'); // replayed
      await screenshot('overview');
    } finally {
      flowing = false;
      await publishing;
    }
    await waitFor(() => receiver.received.includes(`flow-${n}`), {
      timeoutMs: 30_000,
      message: 'the last flow event',
    });
  });

  test('tests an event against the rules and reads why one does not match', async () => {
    await page.getByRole('link', { name: 'Rules' }).click();
    await page
      .getByLabel('CloudEvent (JSON)')
      .fill(JSON.stringify({ specversion: '1.0', id: 'x', source: 'shop', type: 'com.shop.refund.issued' }));
    await page.getByRole('button', { name: 'Test against the rules' }).click();
    const refunds = await textOf(page.locator('li.not-matched', { hasText: 'refunds' }), /source/);
    expect(refunds).toMatch(/refunds does not match at source/);
    expect(await textOf(page.locator('li.not-matched', { hasText: 'orders' }), /type/)).toMatch(
      /orders does not match at type/,
    );
    await page.locator('details.rule summary', { hasText: 'default/orders' }).click();
    expect(await page.locator('details.rule[open] pre').textContent()).toContain('name: billing');
    await screenshot('rules');
  });

  test('the live tail shows a published event, and pausing stops it', async () => {
    await page.getByRole('link', { name: 'Live tail' }).click();
    await textOf(page.getByTestId('tail-status'), /Connected to bus default/);
    await publish('tailed-1', 'com.shop.order.created');
    await textOf(page.locator('table.tail tbody'), /tailed-1/);
    await page.getByRole('button', { name: 'Pause' }).click();
    await textOf(page.getByTestId('tail-status'), /Paused/);
    await publish('while-paused', 'com.shop.order.created');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await page.locator('table.tail tbody').textContent()).not.toContain('while-paused');
    // Resumed, it reads on from the last event shown: the one published while paused arrives.
    await page.getByRole('button', { name: 'Resume' }).click();
    await textOf(page.locator('table.tail tbody'), /while-paused/);
    await screenshot('tail');
  });

  test('finds a timer by key prefix, fires it now, and cancels it after a confirmation', async () => {
    const put = await callApi(
      fuze.adminUrl,
      'PUT',
      '/v1/timers/reminders:cart-7',
      { event: { type: 'com.shop.cart.reminder', source: 'shop', data: { cart: 7 } }, cron: '0 9 * * *' },
      auth,
    );
    expect(put.status, JSON.stringify(put.body)).toBeLessThan(300);
    await page.getByRole('link', { name: 'Timers' }).click();
    await page.getByLabel('Key prefix').fill('reminders:');
    await page.getByRole('button', { name: 'Search' }).click();
    await textOf(page.locator('tr[data-key="reminders:cart-7"]'), /scheduled/);
    await screenshot('timers');
    await page.getByRole('link', { name: 'reminders:cart-7' }).click();
    await textOf(page.getByTestId('timer-state'), /scheduled/);
    await page.getByRole('button', { name: 'Fire now' }).click();
    await textOf(page.getByTestId('timer-fired'), /\(1 firings\)/);
    expect(await page.getByTestId('timer-state').textContent()).toBe('scheduled'); // a cron goes on
    await page.getByRole('button', { name: 'Cancel timer…' }).click();
    await page.getByRole('button', { name: 'Cancel the timer' }).click();
    await textOf(page.getByTestId('timer-state'), /cancelled/);
    const read = await callApi<{ state: string }>(
      fuze.adminUrl,
      'GET',
      '/v1/timers/reminders:cart-7',
      undefined,
      auth,
    );
    expect(read.body.state).toBe('cancelled');
    await screenshot('timer');
  });

  test('counts an archive replay (dry run) and shows the job finish', async () => {
    await page.getByRole('link', { name: 'Archive replay' }).click();
    await page.getByLabel(/^Rules/).fill('orders');
    await page.getByRole('button', { name: 'Count' }).click();
    await textOf(page.getByTestId('progress-percent'), /^100%$/);
    expect(await textOf(page.locator('.replay-job'), /completed/)).toContain('(dry run)');
    await screenshot('archive');
  });

  test('an API key with dlq:read only: dead letters are listed, the rest says which scope it lacks', async () => {
    const key = await callApi<{ token: string }>(
      fuze.adminUrl,
      'POST',
      '/v1/keys',
      { name: 'dlq-reader', scopes: ['dlq:read'] },
      auth,
    );
    expect(key.status, JSON.stringify(key.body)).toBeLessThan(300);
    const context = await browser.newContext();
    const reader = await context.newPage();
    try {
      await reader.goto(`${fuze.adminUrl}/console/`);
      await reader.getByLabel('Admin token or API key').fill(key.body.token);
      await reader.getByRole('button', { name: 'Sign in' }).click();
      await reader.getByRole('heading', { name: 'Overview' }).waitFor();
      expect(await textOf(reader.getByRole('alert'), /scope/)).toContain('lacks the "rules:read" scope');
      await reader.getByRole('link', { name: 'Dead letters' }).click();
      const row = reader.locator('table.dead-letters tbody tr').first();
      await textOf(row, /billing/);
      await row.getByRole('checkbox').check();
      await reader.getByRole('button', { name: /Replay selected/ }).click();
      expect(await textOf(reader.getByRole('alert'), /scope/)).toContain('lacks the "dlq:write" scope');
    } finally {
      await context.close();
    }
  });

  test('bad input is named where it was typed: malformed JSON to test, an invalid tail pattern', async () => {
    await page.getByRole('link', { name: 'Rules' }).click();
    await page.getByLabel('CloudEvent (JSON)').fill('{"type": "com.shop.order.created",');
    await page.getByRole('button', { name: 'Test against the rules' }).click();
    expect(await textOf(page.getByRole('alert'), /JSON/)).toMatch(/JSON/);
    await page.getByRole('link', { name: 'Live tail' }).click();
    await page.getByLabel('Pattern (JSON, optional)').fill('{"type": [{"prefx": "com."}]}');
    await page.getByRole('button', { name: 'Tail' }).click();
    expect(await textOf(page.getByRole('alert'), /prefx/)).toContain('unknown operator "prefx"');
  });

  test('NATS killed and restarted: the overview says what fails, then recovers on its own', async () => {
    await page.getByRole('link', { name: 'Overview' }).click();
    await textOf(page.locator('tr[data-target="billing"] [data-testid="workers"]'), /^[1-9]/);
    await nats.kill();
    try {
      await textOf(page.getByRole('alert'), /\S/, 60_000);
    } finally {
      await nats.restart();
    }
    await waitFor(async () => (await page.getByRole('alert').count()) === 0, {
      timeoutMs: 90_000,
      message: 'the overview without an error again',
    });
    await textOf(page.locator('tr[data-target="billing"] [data-testid="workers"]'), /^[1-9]/, 60_000);
  });

  test('purges the dead letters a filter matches, only after a confirmation', async () => {
    await publish('order-2', 'com.shop.order.created');
    receiver.up = false;
    await publish('order-3', 'com.shop.order.created');
    await page.goto(`${fuze.adminUrl}/console/#/dead-letters?target=billing&state=dead`);
    await textOf(page.locator('table.dead-letters tbody'), /com\.shop\.order\.created/, 60_000);
    // A dry run of the filter's replay counts and replays nothing.
    await page.getByLabel('dry run').check();
    await page.getByRole('button', { name: 'Replay all matching the filter' }).click();
    expect(await textOf(page.locator('.replay-job'), /completed/)).toMatch(/\(dry run\)/);
    await textOf(page.getByTestId('progress-percent'), /^100%$/);
    await textOf(page.locator('table.dead-letters tbody tr').first(), /dead$/);
    await page.getByRole('button', { name: 'Purge matching…' }).click();
    await page.getByRole('alertdialog', { name: 'Confirm purge' }).waitFor();
    await page.getByRole('button', { name: 'Purge', exact: true }).click();
    await textOf(page.locator('.notice'), /Purged [1-9]/);
    const left = await callApi<{ items: unknown[] }>(
      fuze.adminUrl,
      'GET',
      '/v1/dlq?target=billing&state=dead',
      undefined,
      auth,
    );
    expect(left.body.items).toEqual([]);
  });
});
