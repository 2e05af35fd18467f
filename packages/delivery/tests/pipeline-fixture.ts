import { openFence } from '@fuze/bus';
import { type Clock, createLogger, type DeliveryEnvelope } from '@fuze/core';
import type { Delivery } from '../src/index.js';

export const silent = createLogger('silent');

/** A clock whose sleeps return at once and move time forward: no test waits for a backoff. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public time = 1_700_000_000_000) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return false;
    this.sleeps.push(ms);
    this.time += ms;
    return true;
  }
}

export function testDelivery(
  overrides: Partial<DeliveryEnvelope> = {},
  controllers = {
    stopping: new AbortController(),
    signal: new AbortController(),
  },
): Delivery {
  return {
    envelope: {
      attributes: { specversion: '1.0', id: 'e-1', source: '/s', type: 't', traceparent: '00-aa-bb-01' },
      body: new TextEncoder().encode('{"a":1}'),
      contentType: 'application/json',
      bus: 'default',
      rule: 'r',
      target: 'billing',
      partitionKey: 'k',
      acceptedAt: 1_700_000_000_000,
      eventSeq: 42,
      ...overrides,
    },
    target: 'billing',
    partition: 3,
    streamSeq: 7,
    attempts: 0,
    firstAttemptAt: undefined,
    lastAttemptAt: undefined,
    stopping: controllers.stopping.signal,
    signal: controllers.signal.signal,
    fence: openFence,
  };
}
