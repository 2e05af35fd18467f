import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAjv, streamNames } from '@fuze/core';
import { openDatabase } from '@fuze/db';
import { dispatcherModule } from '@fuze/dispatcher';
import { gatewayModule } from '@fuze/gateway';
import { routerModule } from '@fuze/router';
import {
  callApi,
  createTestDatabase,
  type FuzeProcess,
  freePort,
  type InProcessFuze,
  type NatsServerHandle,
  spawnFuze,
  startInProcessFuze,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { applyRuleFiles } from '../src/index.js';

// Archive replay end to end: a real gateway, router and dispatcher in this process, the admin
// service as its own `fuze serve --services admin` process (killed mid-job in one test), Postgres
// and NATS. Events are published before, inside and after a window; a replay of the window must
// deliver exactly the window's matching events, marked, in per-key order.
const prefix = 'ARCH';
const adminToken = 'archive-test-admin-token';
const auth = { authorization: `Bearer ${adminToken}` };
let nats: NatsServerHandle;
let db: TestDatabase;
let fuze: InProcessFuze;
let nc: NatsConnection;
let receiver: Server;
let admin: FuzeProcess;
let adminPort: number;

interface Received {
  target: string;
  headers: IncomingHttpHeaders;
  data: { key: string; n: number };
}
const received: Received[] = [];
const finishedEvents: Array<Record<string, unknown>> = [];

/** Published events, by phase: `before` the window, `inside` it, `after` it. */
const published = { before: [] as Ev[], inside: [] as Ev[], after: [] as Ev[] };
interface Ev {
  id: string;
  type: string;
  key: string;
  n: number;
}
let window: { from: string; to: string };

const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
const counters = new Map<string, number>();

function adminUrl() {
  return `http://127.0.0.1:${adminPort}`;
}

function api(method: string, path: string, body?: unknown, headers: Record<string, string> = auth) {
  return callApi(adminUrl(), method, path, body, headers);
}

function startAdmin(): FuzeProcess {
  return spawnFuze(['serve', '--services', 'admin'], {
    FUZE_NATS_URL: nats.url,
    FUZE_DATABASE_URL: db.url,
    FUZE_STREAM_PREFIX: prefix,
    FUZE_ADMIN_PORT: String(adminPort),
    FUZE_ADMIN_TOKEN: adminToken,
    FUZE_METRICS_PORT: '0',
    FUZE_LOG_LEVEL: 'info',
  });
}

async function publishPhase(phase: keyof typeof published, count: number, bus = 'shop'): Promise<void> {
  const events = Array.from({ length: count }, (_, i) => {
    const key = keys[i % keys.length]!;
    const n = (counters.get(key) ?? 0) + 1;
    counters.set(key, n);
    const type = i % 3 === 2 ? 'com.shop.refund' : 'com.shop.order';
    return { id: `${phase}-${bus}-${key}-${n}`, type, key, n };
  });
  const res = await fetch(`${fuze.gatewayUrl}/v1/buses/${bus}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json', ...auth },
    body: JSON.stringify(
      events.map((e) => ({
        specversion: '1.0',
        id: e.id,
        source: '/shop',
        type: e.type,
        partitionkey: e.key,
        datacontenttype: 'application/json',
        data: { key: e.key, n: e.n },
      })),
    ),
  });
  expect(res.status).toBe(202);
  if (bus === 'shop') published[phase].push(...events);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForJob(id: string, state = 'completed', timeoutMs = 60_000) {
  let job: Record<string, unknown> = {};
  await waitFor(
    async () => {
      job = (await api('GET', `/v1/replays/${id}`)).body;
      return job.state === state;
    },
    { timeoutMs, message: `replay job ${id} ${state}` },
  );
  return job as {
    state: string;
    total: number;
    done: number;
    failed: number;
    progress: number;
    error: string | null;
    archive: {
      deliveries: number;
      matched: number;
      byRule: Record<string, number>;
      byTarget: Record<string, number>;
    };
  };
}

/** What a job delivered: received deliveries marked with its id. */
function deliveredBy(jobId: string): Received[] {
  return received.filter((r) => r.headers['ce-fuzereplay'] === jobId);
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || 'null');
      if (req.url === '/finished') finishedEvents.push(body as Record<string, unknown>);
      else received.push({ target: req.url!.slice(1), headers: req.headers, data: body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  nats = await startNatsServer();
  db = await createTestDatabase();
  nc = await connect({ servers: nats.url });
  const target = (name: string) => `
    - name: ${name}
      http: { url: "${base}/${name}", timeout: 2s, mode: binary }
      ordering: { partitions: 4 }`;
  const rules = `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: orders, bus: shop }
spec:
  pattern: { type: [com.shop.order] }
  targets:${target('ledger')}${target('audit')}
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: refunds, bus: shop }
spec:
  pattern: { type: [com.shop.refund] }
  targets:${target('refund-log')}
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: elsewhere }
spec:
  pattern: { source: [/shop] }
  targets:${target('other-bus')}
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: replays-finished, bus: fuze }
spec:
  pattern: { type: [dev.fuze.archive-replay.finished] }
  targets:
    - name: finished
      http: { url: "${base}/finished", timeout: 2s, mode: structured }
`;
  const database = await openDatabase({ url: db.url });
  await applyRuleFiles({ db: database.db, nats: nc, prefix }, [{ path: 'rules.yaml', content: rules }]);
  await database.close();
  fuze = await startInProcessFuze({
    modules: [gatewayModule, routerModule, dispatcherModule],
    natsUrl: nats.url,
    env: {
      FUZE_DATABASE_URL: db.url,
      FUZE_STREAM_PREFIX: prefix,
      FUZE_ADMIN_TOKEN: adminToken,
      FUZE_LOG_LEVEL: 'error',
    },
  });
  adminPort = await freePort();
  admin = startAdmin();
  await admin.waitForLog('admin API listening', 60_000);

  await publishPhase('before', 30);
  await publishPhase('before', 12, 'default');
  await pause(50);
  const from = new Date().toISOString();
  await pause(50);
  for (let i = 0; i < 4; i++) {
    await publishPhase('inside', 60);
    await publishPhase('inside', 6, 'default');
  }
  await pause(50);
  const to = new Date().toISOString();
  await pause(50);
  await publishPhase('after', 30);
  window = { from, to };
  const live =
    [...published.before, ...published.inside, ...published.after].reduce(
      (n, e) => n + (e.type === 'com.shop.order' ? 2 : 1),
      0,
    ) +
    12 +
    24;
  await waitFor(() => received.length >= live, { timeoutMs: 60_000, message: `${live} live deliveries` });
}, 180_000);

afterAll(async () => {
  admin?.child.kill('SIGKILL');
  await admin?.exited;
  await nc?.close();
  await fuze?.stop();
  await db?.drop();
  await nats?.[Symbol.asyncDispose]();
  await new Promise((resolve) => receiver?.close(resolve));
});

/** The window's events of a type, in publish order. */
function inside(type?: string): Ev[] {
  return published.inside.filter((e) => type === undefined || e.type === type);
}

/** Per target and key, the n of each delivery in arrival order must never go down. */
function expectPerKeyOrder(deliveries: Received[]): void {
  const last = new Map<string, number>();
  for (const d of deliveries) {
    const slot = `${d.target}/${d.data.key}`;
    expect(d.data.n, `${slot}: ${d.data.n} after ${last.get(slot)}`).toBeGreaterThanOrEqual(
      last.get(slot) ?? 0,
    );
    last.set(slot, d.data.n);
  }
}

describe('archive replay', () => {
  let dryRun: Awaited<ReturnType<typeof waitForJob>>;

  test('a dry run counts the window per rule and target, and delivers nothing', async () => {
    const created = await api('POST', '/v1/archive/replays', { bus: 'shop', ...window, dryRun: true });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ kind: 'archive', dryRun: true });
    dryRun = await waitForJob(created.body.id as string);
    const orders = inside('com.shop.order').length;
    const refunds = inside('com.shop.refund').length;
    expect(dryRun.total).toBe(orders + refunds);
    expect(dryRun.archive).toMatchObject({
      matched: orders + refunds,
      deliveries: 2 * orders + refunds,
      byRule: { orders: 2 * orders, refunds },
      byTarget: { ledger: orders, audit: orders, 'refund-log': refunds },
    });
    expect(dryRun.progress).toBe(1);
    await pause(500);
    expect(deliveredBy(created.body.id as string)).toHaveLength(0);
  });

  test("a replay delivers exactly the window's matching events, marked with the job, in per-key order", async () => {
    const created = await api('POST', '/v1/archive/replays', { bus: 'shop', ...window });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const job = await waitForJob(id);
    expect(job.archive.deliveries).toBe(dryRun.archive.deliveries);
    expect(job.archive.byTarget).toEqual(dryRun.archive.byTarget);
    await waitFor(() => deliveredBy(id).length >= dryRun.archive.deliveries, {
      timeoutMs: 30_000,
      message: 'the replayed deliveries',
    });
    const got = deliveredBy(id);
    const ids = (target: string) =>
      new Set(got.filter((d) => d.target === target).map((d) => d.headers['ce-id']));
    const expected = (type: string) => new Set(inside(type).map((e) => e.id));
    expect(ids('ledger')).toEqual(expected('com.shop.order'));
    expect(ids('audit')).toEqual(expected('com.shop.order'));
    expect(ids('refund-log')).toEqual(expected('com.shop.refund'));
    expect(ids('other-bus').size).toBe(0);
    expect(got).toHaveLength(dryRun.archive.deliveries);
    expectPerKeyOrder(got);
    // The original event, as the bus accepted it: same id, source and data.
    const sample = got.find((d) => d.target === 'ledger')!;
    expect(sample.headers['ce-source']).toBe('/shop');
    expect(sample.headers['ce-partitionkey']).toBe(sample.data.key);
  });

  test('named rules and targets narrow the replay', async () => {
    const created = await api('POST', '/v1/archive/replays', {
      bus: 'shop',
      ...window,
      rules: ['orders'],
      targets: ['audit'],
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const job = await waitForJob(id);
    expect(job.archive.byTarget).toEqual({ audit: inside('com.shop.order').length });
    await waitFor(() => deliveredBy(id).length >= inside('com.shop.order').length, { timeoutMs: 30_000 });
    await pause(300);
    expect(new Set(deliveredBy(id).map((d) => d.target))).toEqual(new Set(['audit']));
  });

  test('the end of a replay is announced on bus fuze', async () => {
    await waitFor(() => finishedEvents.length >= 2, {
      timeoutMs: 30_000,
      message: 'archive-replay.finished events',
    });
    const event = finishedEvents[0] as { type: string; data: Record<string, unknown> };
    expect(event.type).toBe('dev.fuze.archive-replay.finished');
    const schema = JSON.parse(
      readFileSync(
        new URL(
          '../../../schemas/system-events/dev.fuze.archive-replay.finished.schema.json',
          import.meta.url,
        ),
        'utf8',
      ),
    ) as object;
    const validate = createAjv().compile(schema);
    expect(validate(event.data), JSON.stringify(validate.errors)).toBe(true);
    expect(event.data).toMatchObject({
      state: 'completed',
      bus: 'shop',
      deliveries: dryRun.archive.deliveries,
    });
    // Dry runs announce nothing.
    expect(finishedEvents.some((e) => (e.data as { jobId: string }).jobId === undefined)).toBe(false);
  });

  test('a job survives the admin process killed mid-job: nothing lost, per-key order kept', async () => {
    const created = await api('POST', '/v1/archive/replays', { bus: 'shop', ...window, ratePerSecond: 40 });
    const id = created.body.id as string;
    await waitFor(
      async () => {
        const job = (await api('GET', `/v1/replays/${id}`)).body as { done: number };
        return job.done >= 40;
      },
      { timeoutMs: 30_000, message: 'the job under way' },
    );
    admin.child.kill('SIGKILL');
    await admin.exited;
    admin = startAdmin();
    await admin.waitForLog('admin API listening', 60_000);
    // The dead worker's lease (30 s) runs out, and the new process resumes after the last stored page.
    const job = await waitForJob(id, 'completed', 120_000);
    expect(job.archive.byTarget).toEqual(dryRun.archive.byTarget);
    await waitFor(() => deliveredBy(id).length >= dryRun.archive.deliveries, { timeoutMs: 30_000 });
    const got = deliveredBy(id);
    const unique = new Set(got.map((d) => `${d.target} ${d.headers['ce-id']}`));
    expect(unique.size).toBe(dryRun.archive.deliveries);
    expectPerKeyOrder(got);
  }, 240_000);

  test('a job survives NATS restarting mid-job: nothing lost, per-key order kept', async () => {
    const created = await api('POST', '/v1/archive/replays', { bus: 'shop', ...window, ratePerSecond: 40 });
    const id = created.body.id as string;
    await waitFor(async () => ((await api('GET', `/v1/replays/${id}`)).body as { done: number }).done >= 40, {
      timeoutMs: 30_000,
      message: 'the job under way',
    });
    await nats.restart();
    const job = await waitForJob(id, 'completed', 120_000);
    expect(job.archive.byTarget).toEqual(dryRun.archive.byTarget);
    await waitFor(
      () =>
        new Set(deliveredBy(id).map((d) => `${d.target} ${d.headers['ce-id']}`)).size >=
        dryRun.archive.deliveries,
      { timeoutMs: 60_000, message: 'every replayed delivery' },
    );
    expectPerKeyOrder(deliveredBy(id));
  }, 240_000);

  test('cancelling a job stops it', async () => {
    const created = await api('POST', '/v1/archive/replays', { bus: 'shop', ...window, ratePerSecond: 5 });
    const id = created.body.id as string;
    await waitForJob(id, 'running');
    const cancelled = await api('DELETE', `/v1/replays/${id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    await pause(1_500);
    const after = deliveredBy(id).length;
    await pause(1_500);
    expect(deliveredBy(id).length).toBe(after);
    expect(after).toBeLessThan(dryRun.archive.deliveries);
  });

  test('bad input is refused with every problem named', async () => {
    const res = await api('POST', '/v1/archive/replays', {
      bus: 'Shop!',
      from: '2030-01-01T00:00:00Z',
      to: 'yesterday',
      rules: ['nope'],
    });
    expect(res.status).toBe(400);
    const pointers = (res.body.errors as Array<{ pointer: string }>).map((p) => p.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['body.bus', 'body.to', 'body.rules/0']));
    const future = await api('POST', '/v1/archive/replays', {
      bus: 'shop',
      from: '1h',
      to: '2099-01-01T00:00:00Z',
    });
    expect(future.status).toBe(400);
    expect(future.body.detail).toMatch(/future/);
    const target = await api('POST', '/v1/archive/replays', {
      bus: 'shop',
      from: '1h',
      to: 'now',
      targets: ['x'],
    });
    expect(target.status).toBe(400);
    expect(target.body.detail).toMatch(/no rule of bus shop has a target named x/);
  });

  test('a key without events:replay may neither start nor follow an archive replay', async () => {
    const key = await api('POST', '/v1/keys', { name: 'dlq-only', scopes: ['dlq:read', 'dlq:write'] });
    expect(key.status).toBe(201);
    const headers = { authorization: `Bearer ${key.body.token}` };
    const refused = await api('POST', '/v1/archive/replays', { bus: 'shop', ...window }, headers);
    expect(refused.status).toBe(403);
    const created = await api('POST', '/v1/archive/replays', { bus: 'shop', ...window, dryRun: true });
    const follow = await api('GET', `/v1/replays/${created.body.id}`, undefined, headers);
    expect(follow.status).toBe(403);
    expect(follow.body.requiredScope).toBe('events:replay');
  });

  test('fuze replay --dry-run prints the counts per rule and target after its progress bar', async () => {
    const cli = spawnFuze(
      ['replay', '--bus', 'shop', '--from', window.from, '--to', window.to, '--rule', 'refunds', '--dry-run'],
      { FUZE_ADMIN_URL: adminUrl(), FUZE_ADMIN_TOKEN: adminToken },
    );
    expect(await cli.exited).toBe(0);
    const refunds = inside('com.shop.refund').length;
    expect(cli.stderr()).toContain('(dry run): bus shop');
    expect(cli.stderr()).toMatch(/\] 100% \d+ events/);
    const out = cli.output();
    expect(out).toContain(
      `completed: ${inside().length} events read, ${refunds} matched, would make ${refunds} deliveries`,
    );
    expect(out).toMatch(new RegExp(`target\\s+refund-log\\s+${refunds}`));
  });

  test('a window older than the events stream holds is refused, naming the oldest time held', async () => {
    const jsm = await jetstreamManager(nc);
    const stream = streamNames(prefix).events;
    const firstInside = (await jsm.streams.info(stream)).state.first_seq + 50;
    await jsm.streams.purge(stream, { seq: firstInside });
    const res = await api('POST', '/v1/archive/replays', { bus: 'shop', ...window });
    expect(res.status).toBe(410);
    expect(res.body.code).toBe('FUZE_ARCHIVE_EXPIRED');
    expect(res.body.detail).toMatch(/no longer holds events accepted before/);
    const oldest = res.body.oldestAvailable as string;
    const later = await api('POST', '/v1/archive/replays', {
      bus: 'shop',
      from: oldest,
      to: window.to,
      dryRun: true,
    });
    expect(later.status).toBe(202);
  });
});
