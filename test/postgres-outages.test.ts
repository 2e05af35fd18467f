import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  makeTempDir,
  type NatsServerHandle,
  type PostgresServerHandle,
  removeTempDir,
  type ServedFuze,
  serveFuze,
  startNatsServer,
  startPostgresServer,
  waitFor,
} from '@fuze/test/harness';
import { afterAll, beforeAll, expect, test } from 'vitest';

/**
 * `fuze serve` (every service) while its Postgres is stopped and started 10 times, with events
 * flowing, some of them dead-lettering, a timer firing every second and a rule changed between
 * outages. Postgres holds rules, timers, the DLQ index and API keys; NATS holds the events. The
 * process must never exit, accept and deliver events during every outage, answer /readyz 503
 * while Postgres is down and 200 once it is back, and catch up on the DLQ index and the timer.
 */
const outages = 10;
const downMs = 3_000;

let nats: NatsServerHandle;
let pg: PostgresServerHandle;
let dataDir: string;
let fuze: ServedFuze;
let receiver: Server;
let gatewayUrl: string;
let adminUrl: string;
let opsUrl: string;
const delivered: Array<{ id: string; type: string; at: number }> = [];

beforeAll(async () => {
  nats = await startNatsServer();
  pg = await startPostgresServer();
  dataDir = await makeTempDir('fuze-pg-outages-');
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // `ok` takes everything; `refuses` answers 400: not retryable, dead-lettered at once.
      if (req.url === '/refuses') return void res.writeHead(400).end('no');
      delivered.push({
        id: String(req.headers['ce-id']),
        type: String(req.headers['ce-type']),
        at: Date.now(),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  fuze = await serveFuze({
    FUZE_NATS_URL: nats.url,
    FUZE_DATABASE_URL: pg.url,
    FUZE_DATA_DIR: dataDir,
    FUZE_STREAM_PREFIX: 'PGO',
  });
  ({ gatewayUrl, adminUrl, opsUrl } = fuze);
}, 240_000);

afterAll(async () => {
  await fuze?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
  await pg?.[Symbol.asyncDispose]();
  await nats?.[Symbol.asyncDispose]();
  if (dataDir) await removeTempDir(dataDir);
});

function rules(version: number): string {
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  return `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: ticks, description: "version ${version}" }
spec:
  pattern: { type: [com.pg.tick, com.pg.timer] }
  targets:
    - name: ok
      http: { url: "${url}/ok", mode: binary }
      ordering: { partitionKey: "$.data.key", partitions: 4 }
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: refused }
spec:
  pattern: { type: [com.pg.refused] }
  targets:
    - name: refuses
      http: { url: "${url}/refuses", mode: binary }
`;
}

async function call(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: test helper reading loose JSON answers
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
}

const readyz = async () => (await fetch(`${opsUrl}/readyz`, { signal: AbortSignal.timeout(5_000) })).status;

test(`Postgres stopped and started ${outages} times under load: the process lives, ingest and delivery go on, the DLQ index and timers catch up`, {
  timeout: 600_000,
}, async () => {
  let version = 1;
  expect(
    (await call(adminUrl, 'POST', '/v1/apply', { files: [{ path: 'r.yaml', content: rules(version) }] }))
      .status,
  ).toBe(200);
  expect(
    (
      await call(adminUrl, 'PUT', '/v1/timers/pg-tick', {
        event: { type: 'com.pg.timer', source: '/pg-outages', data: { key: 'timer' } },
        rate: '1s',
      })
    ).status,
  ).toBe(201);

  // Load: 20 events a second through the gateway, one in ten dead-lettering.
  const accepted: Array<{ id: string; type: string; at: number }> = [];
  const failedPublishes: number[] = [];
  let n = 0;
  let loading = true;
  const load = (async () => {
    while (loading) {
      n += 1;
      const type = n % 10 === 0 ? 'com.pg.refused' : 'com.pg.tick';
      const id = `pg-${n}`;
      const res = await fetch(`${gatewayUrl}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({
          specversion: '1.0',
          id,
          source: '/pg-outages',
          type,
          data: { key: `k${n % 5}` },
        }),
      }).catch(() => undefined);
      if (res?.status === 202) accepted.push({ id, type, at: Date.now() });
      else failedPublishes.push(res?.status ?? 0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const windows: Array<{ from: number; to: number; readyz: number }> = [];
  try {
    for (let i = 0; i < outages; i++) {
      await new Promise((r) => setTimeout(r, 1_500));
      await pg.stop();
      const from = Date.now();
      const down = await waitFor(async () => ((await readyz()) === 503 ? 503 : undefined), {
        timeoutMs: 20_000,
        intervalMs: 200,
        message: `/readyz to answer 503 during outage ${i + 1}`,
      });
      await new Promise((r) => setTimeout(r, downMs));
      const to = Date.now();
      await pg.restart();
      await waitFor(async () => (await readyz()) === 200, {
        timeoutMs: 60_000,
        intervalMs: 200,
        message: `/readyz to answer 200 after outage ${i + 1}`,
      });
      windows.push({ from, to, readyz: down });
      // A rule change between outages (the admin API writes it to Postgres).
      version += 1;
      const applied = await waitFor(
        async () => {
          const res = await call(adminUrl, 'POST', '/v1/apply', {
            files: [{ path: 'r.yaml', content: rules(version) }],
          });
          return res.status === 200 ? res : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500, message: `the rule change after outage ${i + 1}` },
      );
      expect(applied.body.changed).toHaveLength(1);
    }
  } finally {
    loading = false;
    await load;
  }
  expect(fuze.process.child.exitCode).toBeNull();

  // Every accepted tick delivered; every refused one indexed in the DLQ once Postgres is back.
  const ticks = accepted.filter((a) => a.type === 'com.pg.tick');
  const refusedIds = accepted.filter((a) => a.type === 'com.pg.refused').map((a) => a.id);
  await waitFor(
    () => {
      const seen = new Set(delivered.map((d) => d.id));
      return ticks.every((t) => seen.has(t.id));
    },
    { timeoutMs: 120_000, intervalMs: 500, message: 'every accepted event delivered' },
  );
  const indexed = await waitFor(
    async () => {
      const res = await call(adminUrl, 'GET', '/v1/dlq?target=refuses&limit=1000');
      const ids = new Set((res.body.items as Array<{ eventId: string }>).map((item) => item.eventId));
      return refusedIds.every((id) => ids.has(id)) ? ids : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500, message: 'every dead letter indexed' },
  );

  // During every outage events were accepted and delivered, and /readyz said 503.
  const during = (list: Array<{ at: number }>, w: { from: number; to: number }) =>
    list.filter((x) => x.at >= w.from && x.at <= w.to).length;
  const perOutage = windows.map((w) => ({
    accepted: during(accepted, w),
    delivered: during(delivered, w),
    readyz: w.readyz,
  }));
  // The timer caught up: it fired after the last restart.
  const lastUp = windows.at(-1)!.to;
  const timer = await waitFor(
    async () => {
      const t = (await call(adminUrl, 'GET', '/v1/timers/pg-tick')).body;
      return Date.parse(t.lastFiredAt) > lastUp ? t : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500, message: 'the timer to fire after the last outage' },
  );
  // Every second the timer was due between its first firing and the last was fired and delivered:
  // a scheduler back within the misfire grace (1m) fires what came due while it was away.
  const dueSeconds = [
    ...new Set(
      delivered
        .filter((d) => d.type === 'com.pg.timer')
        .map((d) => Date.parse(d.id.slice(d.id.indexOf('@') + 1, d.id.lastIndexOf('#')))),
    ),
  ].sort((a, b) => a - b);
  const missed = dueSeconds.slice(1).filter((due, i) => due - dueSeconds[i]! !== 1_000);
  expect(
    missed.map((due) => new Date(due).toISOString()),
    'due times after a gap in the firings',
  ).toEqual([]);
  console.info(
    `postgres outages: ${outages} × ${downMs} ms; ${accepted.length} events accepted (${failedPublishes.length} requests not accepted: ${[...new Set(failedPublishes)].join(', ') || 'none'}), ` +
      `${ticks.length} ticks delivered, ${indexed.size} dead letters indexed, timer fired ${timer.fireCount} times; per outage (accepted/delivered): ${perOutage.map((p) => `${p.accepted}/${p.delivered}`).join(' ')}`,
  );
  expect(failedPublishes).toEqual([]);
  for (const p of perOutage) {
    expect(p.readyz).toBe(503);
    expect(p.accepted).toBeGreaterThan(0);
    expect(p.delivered).toBeGreaterThan(0);
  }
  expect(fuze.process.child.exitCode).toBeNull();
  expect(fuze.process.output()).not.toMatch(/"level":60/); // nothing fatal logged
});
