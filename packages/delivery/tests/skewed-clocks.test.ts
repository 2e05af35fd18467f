import { openFlowBucket } from '@fuze/bus';
import { type Clock, createLogger, systemClock } from '@fuze/core';
import { type NatsServerHandle, startNatsServer } from '@fuze/test/harness';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CircuitBreaker, ServerClock, SharedConcurrency, SharedRateLimit } from '../src/index.js';
import { connectTo } from './delivery-fixture.js';

// Workers of one target whose own clocks disagree by 40 s share flow-control state through the
// flow bucket of a real NATS: each reads the server's clock (ServerClock), so the limits hold.
let server: NatsServerHandle;
let nc: NatsConnection;
let kv: KV;
let clocks = 0;
const logger = createLogger('silent');

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  kv = await openFlowBucket(nc, 'SKEW');
});
afterAll(async () => {
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

/** The server's clock as seen by a worker whose own clock is `skewMs` off. */
async function serverClockSkewedBy(skewMs: number, bucket = kv): Promise<ServerClock> {
  const local: Clock = { now: () => Date.now() + skewMs, sleep: systemClock.sleep };
  const clock = new ServerClock(bucket, `clock.test.${++clocks}`, local);
  await clock.start();
  return clock;
}

/** Each worker takes tokens as fast as it may for `runMs`: how many each took. */
async function takeFor(workers: readonly SharedRateLimit[], runMs: number): Promise<number[]> {
  const stop = new AbortController();
  const started = Date.now();
  const taken = workers.map(() => 0);
  const loops = workers.map(async (worker, i) => {
    while (!stop.signal.aborted) {
      await worker.take(stop.signal).catch(() => {});
      if (!stop.signal.aborted && Date.now() - started < runMs) taken[i]! += 1;
    }
  });
  await new Promise((r) => setTimeout(r, runMs));
  stop.abort();
  await Promise.all(loops);
  return taken;
}

test('a ServerClock reads the server time whatever the local clock says', async () => {
  const ahead = await serverClockSkewedBy(20_000);
  const behind = await serverClockSkewedBy(-20_000);
  expect(Math.abs(ahead.now() - Date.now())).toBeLessThan(1_000);
  expect(Math.abs(behind.now() - Date.now())).toBeLessThan(1_000);
  ahead.stop();
  behind.stop();
});

test('rate limit: clocks 20 s ahead and 20 s behind share one bucket; the limit holds and none starves', {
  timeout: 30_000,
}, async () => {
  const policy = { perSecond: 40, burst: 10 };
  const runMs = 4_000;
  const clocksOf = await Promise.all([20_000, 0, -20_000].map((skew) => serverClockSkewedBy(skew)));
  const workers = clocksOf.map(
    (clock) => new SharedRateLimit({ kv, target: 'skewed', policy: () => policy, clock, logger }),
  );
  const taken = await takeFor(workers, runMs);
  for (const clock of clocksOf) clock.stop();
  const total = taken.reduce((a, b) => a + b, 0);
  // At most the burst, 4 s of refill with 10% slack, and one chunk (1 token) per worker.
  const most = policy.burst + (policy.perSecond * runMs * 1.1) / 1000 + workers.length;
  const said = `taken per worker: ${taken.join(', ')}`;
  expect(total, said).toBeLessThanOrEqual(most);
  expect(total, said).toBeGreaterThanOrEqual((policy.perSecond * runMs * 0.5) / 1000);
  for (const n of taken) expect(n, said).toBeGreaterThan(0);
});

test('rate limit: clocks 100 ms apart (what a ServerClock may still err by under load) leak no refill at hand-overs', {
  timeout: 30_000,
}, async () => {
  const policy = { perSecond: 40, burst: 10 };
  const runMs = 4_000;
  const workers = [100, 0, -100].map((skew) => {
    const clock: Clock = { now: () => Date.now() + skew, sleep: systemClock.sleep };
    return new SharedRateLimit({ kv, target: 'near', policy: () => policy, clock, logger });
  });
  const taken = await takeFor(workers, runMs);
  const total = taken.reduce((a, b) => a + b, 0);
  // The burst, 4 s of refill with 10% slack, one chunk per worker, and the 200 ms spread once.
  const most = policy.burst + (policy.perSecond * (runMs * 1.1 + 200)) / 1000 + workers.length;
  const said = `taken per worker: ${taken.join(', ')}`;
  expect(total, said).toBeLessThanOrEqual(most);
  expect(total, said).toBeGreaterThanOrEqual((policy.perSecond * runMs * 0.5) / 1000);
});

test('maxConcurrency: a worker 60 s ahead does not take live slots; a dead worker’s slots lapse', {
  timeout: 30_000,
}, async () => {
  // The holder has its own connection: closing it is its process dying (no release, no renewal).
  const holderNc = await connectTo(server.url);
  const holderKv = await openFlowBucket(holderNc, 'SKEW');
  const renewMs = 300;
  const holder = new SharedConcurrency({
    kv: holderKv,
    target: 'narrow',
    memberId: 'holder',
    limit: () => 2,
    renewMs,
    clock: await serverClockSkewedBy(0, holderKv),
    logger,
  });
  const aheadClock = await serverClockSkewedBy(60_000);
  const ahead = new SharedConcurrency({
    kv,
    target: 'narrow',
    memberId: 'ahead',
    limit: () => 2,
    renewMs,
    clock: aheadClock,
    logger,
  });
  const never = new AbortController().signal;
  await holder.acquire(never);
  await holder.acquire(never);
  // Both slots are held and renewed: the worker whose clock is ahead must wait.
  const soon = AbortSignal.timeout(2 * renewMs * 3);
  await expect(ahead.acquire(soon)).rejects.toThrow();
  // The holder dies: its slots lapse within 3 renewals, and the other worker gets one.
  await holderNc.close();
  const diedAt = Date.now();
  const slot = await ahead.acquire(AbortSignal.timeout(10_000));
  expect(slot).toBeDefined();
  expect(Date.now() - diedAt).toBeLessThan(10_000);
  await slot?.release();
  holder.stop();
  ahead.stop();
  aheadClock.stop();
});

test('circuit breaker: a worker 20 s ahead waits out the open breaker with the others', {
  timeout: 30_000,
}, async () => {
  const policy = { failures: 2, windowMs: 10_000, openForMs: 3_000 };
  const [local, aheadClock] = await Promise.all([serverClockSkewedBy(0), serverClockSkewedBy(20_000)]);
  const make = (memberId: string, clock: ServerClock) =>
    new CircuitBreaker({ kv, target: 'guarded', memberId, policy: () => policy, clock, logger });
  const opener = make('opener', local);
  const ahead = make('ahead', aheadClock);
  const never = new AbortController().signal;
  await opener.admit(never);
  await opener.failed(false);
  await opener.failed(false);
  expect(opener.state.state).toBe('open');
  const openedAt = Date.now();
  // Its own clock says the 3 s are long over; the server's says they are not.
  expect(await ahead.admit(never)).toBe('probe');
  expect(Date.now() - openedAt).toBeGreaterThanOrEqual(policy.openForMs - 500);
  await ahead.succeeded(true);
  opener.stop();
  ahead.stop();
  local.stop();
  aheadClock.stop();
});
