import { monitorEventLoopDelay } from 'node:perf_hooks';
import { adminModule } from '@fuze/admin';
import { type Database, openDatabase } from '@fuze/db';
import {
  callApi,
  createTestDatabase,
  deliveryEnvelope,
  type FuzeProcess,
  type NatsServerHandle,
  provisionStreams,
  publishDeliveries,
  readDeadLetters,
  spawnFuze,
  startInProcessFuze,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { applyRulesYaml, JetStreamPublisher, WebhookReceiver } from './dispatcher-fixture.js';

// Flow control held across 3 dispatcher processes. A target down for a while behind a circuit
// breaker: the breaker opens after its failures, the events wait without spending attempts (a
// retry policy that would dead-letter them in under 2 s dead-letters none), probes find the target
// back, and every event arrives in per-key order. A rate-limited target and a concurrency-limited
// one: the receiver never sees more than the limits allow.
const keys = 30;
const perKey = 20;
const partitions = 16;
const downMs = 12_000;

let nats: NatsServerHandle;
let nc: NatsConnection;
let testDb: TestDatabase;
let database: Database;
let receiver: WebhookReceiver;
const processes: FuzeProcess[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
  testDb = await createTestDatabase();
  database = await openDatabase({ url: testDb.url });
  receiver = await WebhookReceiver.start();
});

afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  await receiver?.close();
  await database?.close();
  await testDb?.drop();
  await nc?.close();
  await nats?.[Symbol.asyncDispose]();
});

/** The most requests the receiver saw in any 1-second window (one starting at each arrival). */
function busiestSecond(arrivals: readonly number[]): number {
  let busiest = 0;
  for (let i = 0, j = 0; i < arrivals.length; i++) {
    while (j < arrivals.length && arrivals[j]! < arrivals[i]! + 1_000) j++;
    busiest = Math.max(busiest, j - i);
  }
  return busiest;
}

/** The longest this process's event loop was held while watched: arrivals queue meanwhile. */
function watchEventLoop(): { stop(): number } {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  return {
    stop() {
      delay.disable();
      return delay.max / 1e6;
    },
  };
}

/**
 * What the receiver may count in one second when the limit holds: the bucket lets `burst` +
 * `perSecond` x t attempts start in any t seconds, plus the chunk (1 token) each of the 3 workers
 * holds. Arrivals are stamped when this process reads them: requests started over 1 s plus the
 * longest stall of its event loop (measured) plus 10% (what is not measured: the dispatchers'
 * own pauses between a token and its request) can land in one counted second.
 */
function mostInASecond(limit: { perSecond: number; burst: number }, stallMs: number) {
  const bound = Math.floor(limit.burst + limit.perSecond * (1.1 + stallMs / 1000) + 3);
  return {
    bound,
    why: `burst ${limit.burst} + ${limit.perSecond}/s over 1.1 s + the receiver's ${Math.round(stallMs)} ms stall + 3 chunks`,
  };
}

/** The admin API on one prefix, in this process (GET /v1/targets). */
function startAdmin(prefix: string) {
  return startInProcessFuze({
    modules: [adminModule],
    natsUrl: nats.url,
    env: { FUZE_DATABASE_URL: testDb.url, FUZE_STREAM_PREFIX: prefix, FUZE_LOG_LEVEL: 'error' },
  });
}

interface TargetView {
  name: string;
  rateLimit: { perSecond: number; burst: number } | null;
  maxConcurrency: number | null;
  live: { workers: number; attemptsPerSecond: number; inFlight: number; breaker: string | null };
}

async function targetsOf(adminUrl: string): Promise<Map<string, TargetView>> {
  const { status, body } = await callApi<{ items: TargetView[] }>(adminUrl, 'GET', '/v1/targets');
  expect(status).toBe(200);
  return new Map(body.items.map((t) => [t.name, t]));
}

/** Three `fuze serve --services dispatcher` processes on one prefix, running. */
async function startDispatchers(prefix: string): Promise<FuzeProcess[]> {
  const env = {
    FUZE_NATS_URL: nats.url,
    FUZE_DATABASE_URL: testDb.url,
    FUZE_STREAM_PREFIX: prefix,
    FUZE_METRICS_PORT: '0',
    FUZE_LOG_LEVEL: 'info',
  };
  const dispatchers = [0, 1, 2].map(() => {
    const p = spawnFuze(['serve', '--services', 'dispatcher'], env);
    processes.push(p);
    return p;
  });
  await Promise.all(dispatchers.map((p) => p.waitForLog('fuze is running', 90_000)));
  return dispatchers;
}

test(`a target down for ${downMs / 1000} s behind a circuit breaker: 3 dispatchers, ${keys * perKey} events, none dead-lettered, per-key order`, async () => {
  const prefix = await provisionStreams(nc, 'CBRK');
  await applyRulesYaml(
    database,
    `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: guarded }
spec:
  pattern: { type: [com.example.test] }
  targets:
    - name: guarded
      http: { url: "${receiver.url}/guarded", mode: binary }
      ordering: { partitionKey: "$.data.key", partitions: ${partitions} }
      retry: { maxAttempts: 4, initialDelay: 100ms, maxDelay: 300ms, maxAge: 1h }
      circuitBreaker: { failures: 10, window: 30s, openFor: 2s }
`,
  );
  const arrivals = new Map<string, number[]>();
  let downUntil = Number.POSITIVE_INFINITY;
  let failedRequests = 0;
  receiver.respond = (req, res) => {
    if (Date.now() < downUntil) {
      failedRequests += 1;
      res.writeHead(503).end('down for maintenance');
      return;
    }
    const { key, n } = JSON.parse(req.body.toString()) as { key: string; n: number };
    arrivals.set(key, [...(arrivals.get(key) ?? []), n]);
    res.writeHead(204).end();
  };
  const dispatchers = await startDispatchers(prefix);
  const admin = await startAdmin(prefix);

  const publisher = new JetStreamPublisher(nc);
  const envelopes = [];
  for (let n = 1; n <= perKey; n++)
    for (let k = 0; k < keys; k++)
      envelopes.push(deliveryEnvelope({ target: 'guarded', key: `key-${k}`, n }));
  downUntil = Date.now() + downMs;
  await publishDeliveries(publisher, prefix, partitions, envelopes);
  await publisher.close();

  await waitFor(() => dispatchers.some((p) => p.output().includes('circuit breaker open')), {
    timeoutMs: 20_000,
    message: 'a dispatcher to see the breaker open',
  });
  // The shared state, as GET /v1/targets shows it, while the target is still down.
  expect(['open', 'half-open']).toContain((await targetsOf(admin.adminUrl)).get('guarded')?.live.breaker);
  const received = () => [...arrivals.values()].reduce((sum, list) => sum + list.length, 0);
  await waitFor(() => received() >= keys * perKey, {
    timeoutMs: 120_000,
    message: 'every event delivered',
  });
  for (const [key, list] of arrivals) {
    const firsts = list.filter((n, i) => list.indexOf(n) === i);
    expect(firsts, key).toEqual(Array.from({ length: perKey }, (_, i) => i + 1));
  }
  expect((await readDeadLetters(nc, prefix)).length).toBe(0);
  // Without the breaker, each of the 600 events would have been tried 4 times while the target was
  // down (2,400 failed requests), then dead-lettered. With it: the failures that open it, the
  // attempts already under way then, and about one probe per openFor.
  console.info(
    `circuit breaker: ${failedRequests} requests failed while the target was down for ${downMs} ms`,
  );
  expect(failedRequests).toBeLessThan(300);
  expect(dispatchers.some((p) => p.output().includes('circuit breaker probe succeeded; closed'))).toBe(true);

  for (const p of dispatchers) p.child.kill('SIGTERM');
  for (const p of dispatchers) expect(await p.exited).toBe(0);
}, 240_000);

test('rateLimit and maxConcurrency hold for the target as a whole across 3 dispatchers', async () => {
  const prefix = await provisionStreams(nc, 'FLOW');
  const perSecond = 50;
  const burst = 10;
  await applyRulesYaml(
    database,
    `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: limited }
spec:
  pattern: { type: [com.example.test] }
  targets:
    - name: paced
      http: { url: "${receiver.url}/paced", mode: binary }
      ordering: { partitionKey: "$.data.key", partitions: ${partitions} }
      rateLimit: { perSecond: ${perSecond}, burst: ${burst} }
    - name: narrow
      http: { url: "${receiver.url}/narrow", mode: binary }
      ordering: { partitionKey: "$.data.key", partitions: ${partitions} }
      maxConcurrency: 8
`,
  );
  const paced: number[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  let narrowDone = 0;
  receiver.respond = async (req, res) => {
    if (req.url === '/paced') {
      paced.push(Date.now());
      res.writeHead(204).end();
      return;
    }
    inFlight += 1;
    mostInFlight = Math.max(mostInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 50));
    inFlight -= 1;
    narrowDone += 1;
    res.writeHead(204).end();
  };
  const dispatchers = await startDispatchers(prefix);
  const admin = await startAdmin(prefix);
  const receiverStall = watchEventLoop();
  const publisher = new JetStreamPublisher(nc);
  const pacedEvents = 1_500;
  const narrowEvents = 600;
  const envelopes = [];
  for (let i = 0; i < pacedEvents; i++)
    envelopes.push(deliveryEnvelope({ target: 'paced', key: `key-${i % 40}`, n: Math.floor(i / 40) + 1 }));
  for (let i = 0; i < narrowEvents; i++)
    envelopes.push(deliveryEnvelope({ target: 'narrow', key: `key-${i % 40}`, n: Math.floor(i / 40) + 1 }));
  await publishDeliveries(publisher, prefix, partitions, envelopes);
  await publisher.close();

  // While the paced target runs: three workers report, at about its rate (the limit, summed).
  await waitFor(
    async () => {
      const live = (await targetsOf(admin.adminUrl)).get('paced')!.live;
      return live.workers === 3 && live.attemptsPerSecond > 0;
    },
    { timeoutMs: 20_000, message: 'the paced target reported by its three workers' },
  );
  const pacedView = (await targetsOf(admin.adminUrl)).get('paced')!;
  expect(pacedView.rateLimit).toEqual({ perSecond, burst });
  expect(pacedView.live.attemptsPerSecond).toBeLessThanOrEqual(perSecond * 1.5 + burst);
  expect((await targetsOf(admin.adminUrl)).get('narrow')?.maxConcurrency).toBe(8);
  const cli = spawnFuze(['targets'], { FUZE_ADMIN_URL: admin.adminUrl });
  expect(await cli.exited).toBe(0);
  expect(cli.output()).toMatch(/paced\s+http\s+16\s+3\s/);
  expect(cli.output()).toMatch(/RATE\/S\s+DELIVERED\/S\s+P99-MS\s+IN-FLIGHT\s+BACKLOG\s+DLQ\s+BREAKER/);
  expect(cli.output()).toContain('50/s burst 10');
  expect(cli.output()).toContain('max 8 in flight');

  await waitFor(() => paced.length >= pacedEvents && narrowDone >= narrowEvents, {
    timeoutMs: 120_000,
    message: 'every event delivered',
  });
  const busiest = busiestSecond(paced);
  const most = mostInASecond({ perSecond, burst }, receiverStall.stop());
  const seconds = (paced.at(-1)! - paced[0]!) / 1000;
  console.info(
    `flow control: ${pacedEvents} events at perSecond ${perSecond} (burst ${burst}) took ${seconds.toFixed(1)} s, busiest second ${busiest} (at most ${most.bound}: ${most.why}); ` +
      `maxConcurrency 8: at most ${mostInFlight} requests in flight`,
  );
  expect(busiest).toBeLessThanOrEqual(most.bound);
  expect(mostInFlight).toBeLessThanOrEqual(8);
  expect(mostInFlight).toBeGreaterThan(1);
  expect((await readDeadLetters(nc, prefix)).length).toBe(0);

  await admin.stop();
  for (const p of dispatchers) p.child.kill('SIGTERM');
  for (const p of dispatchers) expect(await p.exited).toBe(0);
}, 240_000);

test('NATS restarted twice while a limited target delivers: the limits still hold, nothing is lost, per-key order kept', async () => {
  const prefix = await provisionStreams(nc, 'FLRS');
  const perSecond = 40;
  const burst = 10;
  const maxConcurrency = 4;
  await applyRulesYaml(
    database,
    `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: limited-restart }
spec:
  pattern: { type: [com.example.test] }
  targets:
    - name: steady
      http: { url: "${receiver.url}/steady", mode: binary }
      ordering: { partitionKey: "$.data.key", partitions: ${partitions} }
      retry: { maxAttempts: 3, initialDelay: 100ms, maxDelay: 300ms, maxAge: 1h }
      rateLimit: { perSecond: ${perSecond}, burst: ${burst} }
      maxConcurrency: ${maxConcurrency}
      circuitBreaker: { failures: 50, window: 30s, openFor: 2s }
`,
  );
  const requests: number[] = [];
  const arrivals = new Map<string, number[]>();
  let inFlight = 0;
  let mostInFlight = 0;
  receiver.respond = async (req, res) => {
    requests.push(Date.now());
    inFlight += 1;
    mostInFlight = Math.max(mostInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 20));
    inFlight -= 1;
    const { key, n } = JSON.parse(req.body.toString()) as { key: string; n: number };
    arrivals.set(key, [...(arrivals.get(key) ?? []), n]);
    res.writeHead(204).end();
  };
  const dispatchers = await startDispatchers(prefix);
  const receiverStall = watchEventLoop();
  const publisher = new JetStreamPublisher(nc);
  const keyCount = 40;
  const events = 800;
  const envelopes = [];
  for (let i = 0; i < events; i++)
    envelopes.push(
      deliveryEnvelope({ target: 'steady', key: `key-${i % keyCount}`, n: Math.floor(i / keyCount) + 1 }),
    );
  await publishDeliveries(publisher, prefix, partitions, envelopes);
  await publisher.close();

  const firstsDelivered = () => [...arrivals.values()].reduce((sum, list) => sum + new Set(list).size, 0);
  for (const share of [0.2, 0.5]) {
    await waitFor(() => firstsDelivered() >= events * share, {
      timeoutMs: 60_000,
      message: `${share * 100}% delivered before a NATS restart`,
    });
    await nats.restart();
  }
  await waitFor(() => firstsDelivered() >= events, { timeoutMs: 120_000, message: 'every event delivered' });
  for (const [key, list] of arrivals) {
    const firsts = list.filter((n, i) => list.indexOf(n) === i);
    expect(firsts, key).toEqual(Array.from({ length: events / keyCount }, (_, i) => i + 1));
  }
  const busiest = busiestSecond(requests);
  const most = mostInASecond({ perSecond, burst }, receiverStall.stop());
  console.info(
    `flow control through 2 NATS restarts: ${requests.length} requests for ${events} events in ${((requests.at(-1)! - requests[0]!) / 1000).toFixed(1)} s, ` +
      `busiest second ${busiest} (limit ${perSecond} + burst ${burst}; at most ${most.bound}: ${most.why}), at most ${mostInFlight} in flight (limit ${maxConcurrency})`,
  );
  expect(busiest).toBeLessThanOrEqual(most.bound);
  expect(mostInFlight).toBeLessThanOrEqual(maxConcurrency);
  expect((await readDeadLetters(nc, prefix)).length).toBe(0);
  for (const p of dispatchers) p.child.kill('SIGTERM');
  for (const p of dispatchers) expect(await p.exited).toBe(0);
}, 300_000);
