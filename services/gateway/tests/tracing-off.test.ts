import { tracingActive } from '@fuze/telemetry';
import { readStream } from '@fuze/test/harness';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type GatewayFixture, startGatewayFixture } from './gateway-fixture.js';

// No OTEL_* exporter and no provider: Fuze registers nothing and makes no spans, but a caller's
// W3C trace context still rides on the event, so the caller's trace reaches the targets.
let fx: GatewayFixture;
let n = 0;

beforeAll(async () => {
  fx = await startGatewayFixture();
});
afterAll(async () => {
  await fx?.close();
});

async function post(event: object, headers: Record<string, string> = {}) {
  const res = await fetch(`${fx.gatewayUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json', ...headers },
    body: JSON.stringify(event),
  });
  expect(res.status).toBe(202);
  await res.arrayBuffer();
}

async function stored(id: string) {
  const message = (await readStream(fx.nc, fx.eventsStream)).find((m) => m.json<{ id: string }>().id === id);
  if (!message) throw new Error(`${id} not stored`);
  return { event: message.json<Record<string, unknown>>(), headers: message.headers };
}

const event = () => ({ specversion: '1.0', id: `off-${++n}`, source: '/off', type: 'com.example.thing' });
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('tracing off', () => {
  test('no tracer provider is registered', () => {
    expect(tracingActive()).toBe(false);
  });

  test("a traceparent header is copied into an event that has none, and into the stream's headers", async () => {
    const e = event();
    await post(e, { traceparent, tracestate: 'vendor=1' });
    const { event: s, headers } = await stored(e.id);
    expect(s).toMatchObject({ traceparent, tracestate: 'vendor=1' });
    expect(headers).toMatchObject({ traceparent, tracestate: 'vendor=1' });
  });

  test("the event's own traceparent wins over the header; nothing is stamped when there is neither", async () => {
    const own = '00-0123456789abcdef0123456789abcdef-1111111111111111-01';
    const e1 = { ...event(), traceparent: own };
    await post(e1, { traceparent });
    expect((await stored(e1.id)).event.traceparent).toBe(own);

    const e2 = event();
    await post(e2);
    const plain = await stored(e2.id);
    expect(plain.event.traceparent).toBeUndefined();
    expect(plain.headers.traceparent).toBeUndefined();
  });

  test('an invalid traceparent header is ignored', async () => {
    const e = event();
    await post(e, { traceparent: 'not-a-trace' });
    expect((await stored(e.id)).event.traceparent).toBeUndefined();
  });
});
