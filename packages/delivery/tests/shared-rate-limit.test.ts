import { openFlowBucket } from '@fuze/bus';
import { type Clock, createLogger, systemClock } from '@fuze/core';
import { type NatsServerHandle, startNatsServer } from '@fuze/test/harness';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SharedRateLimit } from '../src/index.js';
import { connectTo } from './delivery-fixture.js';

// Three workers of one target share a rate limit through the flow bucket of a real NATS.
let server: NatsServerHandle;
let nc: NatsConnection;
let kv: KV;
const logger = createLogger('silent');

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  kv = await openFlowBucket(nc, 'RL');
});
afterAll(async () => {
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

const skewed = (skewMs: number): Clock => ({ now: () => Date.now() + skewMs, sleep: systemClock.sleep });

test('workers whose clocks disagree by 40 s still share one bucket: the limit holds and none starves', {
  timeout: 30_000,
}, async () => {
  const policy = { perSecond: 40, burst: 10 };
  const runMs = 4_000;
  const make = (clock: Clock) =>
    new SharedRateLimit({ kv, target: 'skewed', policy: () => policy, clock, logger });
  const workers = [make(skewed(20_000)), make(systemClock), make(skewed(-20_000))];
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
  const total = taken.reduce((a, b) => a + b, 0);
  // At most the burst, 4 s of refill with 10% slack, and one chunk (1 token) per worker.
  const most = policy.burst + (policy.perSecond * runMs * 1.1) / 1000 + workers.length;
  expect(total, `taken per worker: ${taken.join(', ')}`).toBeLessThanOrEqual(most);
  expect(total, `taken per worker: ${taken.join(', ')}`).toBeGreaterThanOrEqual(
    (policy.perSecond * runMs * 0.5) / 1000,
  );
  for (const n of taken) expect(n, `taken per worker: ${taken.join(', ')}`).toBeGreaterThan(0);
});
