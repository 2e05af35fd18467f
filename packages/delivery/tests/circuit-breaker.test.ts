import { openFlowBucket } from '@fuze/bus';
import { createLogger } from '@fuze/core';
import { type NatsServerHandle, startNatsServer, waitFor } from '@fuze/test/harness';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CircuitBreaker,
  circuitBreakerMiddleware,
  type Delivery,
  DeliveryAbortedError,
  DeliveryError,
  NonRetryableError,
} from '../src/index.js';
import { connectTo } from './delivery-fixture.js';

// Two workers of one target share a breaker through the flow bucket of a real NATS.
let server: NatsServerHandle;
let nc: NatsConnection;
let kv: KV;
let targets = 0;
const policy = { failures: 3, windowMs: 10_000, openForMs: 800 };
const logger = createLogger('silent');

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  kv = await openFlowBucket(nc, 'CB');
});
afterAll(async () => {
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

async function twoWorkers(p: typeof policy = policy) {
  const target = `t${++targets}`;
  const make = (memberId: string) => new CircuitBreaker({ kv, target, memberId, policy: () => p, logger });
  const a = make('a');
  const b = make('b');
  const stop = () => {
    a.stop();
    b.stop();
  };
  return { a, b, target, stop };
}

const retryable = () => new DeliveryError('503', true);
const never = new AbortController().signal;

describe('CircuitBreaker', () => {
  test('failures from both workers open it for both; one probe at a time; its success closes it', async () => {
    const { a, b, stop } = await twoWorkers();
    try {
      expect(await a.admit(never)).toBe('attempt');
      await a.failed(false);
      await b.failed(false);
      expect(a.state.state).toBe('closed');
      await waitFor(() => b.state.state === 'closed' && (b.state as { failures: number }).failures === 2);
      await a.failed(false);
      await waitFor(() => a.state.state === 'open' && b.state.state === 'open', { message: 'open for both' });

      // While open, attempts wait; after openFor exactly one worker probes.
      const started = Date.now();
      const admitted: string[] = [];
      const pending = {
        a: a.admit(never).then((r) => admitted.push(`a:${r}`)),
        b: b.admit(never).then((r) => admitted.push(`b:${r}`)),
      };
      await waitFor(() => admitted.length > 0, { message: 'one admission' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(700);
      await sleep(300);
      expect(admitted).toHaveLength(1);
      expect(admitted[0]).toMatch(/:probe$/);
      const prober = admitted[0]!.startsWith('a') ? a : b;
      await prober.succeeded(true);
      await Promise.all([pending.a, pending.b]);
      expect(admitted[1]).toMatch(/:attempt$/);
      expect(prober.state.state).toBe('closed');
    } finally {
      stop();
    }
  });

  test('a failed probe opens it again; failures outside the window do not add up', async () => {
    const { a, b, stop } = await twoWorkers({ failures: 2, windowMs: 300, openForMs: 300 });
    try {
      await a.failed(false);
      await sleep(400);
      await a.failed(false);
      expect(a.state.state).toBe('closed');
      await b.failed(false);
      await waitFor(() => a.state.state === 'open');
      expect(await a.admit(never)).toBe('probe');
      await a.failed(true);
      expect(a.state.state).toBe('open');
      expect(await b.admit(never)).toBe('probe');
      await b.succeeded(true);
      await waitFor(() => a.state.state === 'closed');
    } finally {
      stop();
    }
  });

  test('a waiting attempt leaves when its worker stops', async () => {
    const { a, stop } = await twoWorkers({ failures: 1, windowMs: 10_000, openForMs: 60_000 });
    try {
      await a.failed(false);
      const stopping = new AbortController();
      const waiting = a.admit(stopping.signal);
      stopping.abort();
      await expect(waiting).rejects.toBeInstanceOf(DeliveryAbortedError);
    } finally {
      stop();
    }
  });

  test('the middleware: a failed probe is not an attempt of its event; a non-retryable answer closes it', async () => {
    const { a, stop } = await twoWorkers({ failures: 1, windowMs: 10_000, openForMs: 200 });
    try {
      const delivery = { attempts: 1, stopping: never } as unknown as Delivery;
      const fail = circuitBreakerMiddleware(() => a)(async () => {
        throw retryable();
      });
      await expect(fail(delivery)).rejects.toThrow('503');
      expect(a.state.state).toBe('open');
      delivery.attempts = 2;
      await expect(fail(delivery)).rejects.toThrow('503'); // the probe, after openFor
      expect(delivery.attempts).toBe(1);
      expect(a.state.state).toBe('open');
      const refuse = circuitBreakerMiddleware(() => a)(async () => {
        throw new NonRetryableError('400');
      });
      await expect(refuse(delivery)).rejects.toThrow('400');
      expect(a.state.state).toBe('closed');
    } finally {
      stop();
    }
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
