import { startTelemetry, type Telemetry } from '@fuze/telemetry';
import { readStream, waitFor } from '@fuze/test/harness';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type GatewayFixture, startGatewayFixture } from './gateway-fixture.js';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let fx: GatewayFixture;

beforeAll(async () => {
  telemetry = await startTelemetry({
    serviceName: 'fuze-test',
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  fx = await startGatewayFixture();
});
afterAll(async () => {
  await fx?.close();
  await telemetry?.shutdown();
});

describe('tracing a batch', () => {
  test('one request span; one publish span per stored event; an event with its own trace is linked', async () => {
    const own = '00-0123456789abcdef0123456789abcdef-1111111111111111-01';
    const res = await fetch(`${fx.gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify([
        { specversion: '1.0', id: 'b-1', source: '/batch', type: 'com.example.thing' },
        { specversion: '1.0', id: 'b-2', source: '/batch', type: 'com.example.thing', traceparent: own },
        { specversion: '1.0', id: 'b-3', source: '/batch' }, // no type: rejected
      ]),
    });
    expect(res.status).toBe(207);

    const request = await waitFor(() =>
      exporter.getFinishedSpans().find((s) => s.name === 'POST /v1/events'),
    );
    expect(request.kind).toBe(SpanKind.SERVER);
    expect(request.attributes['http.response.status_code']).toBe(207);
    const publishes = exporter.getFinishedSpans().filter((s) => s.name === 'publish fuze.events');
    expect(publishes.map((s) => s.attributes['messaging.message.id']).sort()).toEqual(['b-1', 'b-2']);

    const first = publishes.find((s) => s.attributes['messaging.message.id'] === 'b-1')!;
    expect(first.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(first.spanContext().traceId).toBe(request.spanContext().traceId);

    const second = publishes.find((s) => s.attributes['messaging.message.id'] === 'b-2')!;
    expect(second.spanContext().traceId).toBe('0123456789abcdef0123456789abcdef');
    expect(second.parentSpanContext?.spanId).toBe('1111111111111111');
    expect(second.links[0]?.context.spanId).toBe(request.spanContext().spanId);

    const stored = new Map(
      (await readStream(fx.nc, fx.eventsStream)).map((m) => [m.json<{ id: string }>().id, m]),
    );
    // b-1 had no trace: it carries its publish span; b-2 keeps its own, its header names the hop.
    expect(stored.get('b-1')?.json<{ traceparent: string }>().traceparent).toBe(
      `00-${first.spanContext().traceId}-${first.spanContext().spanId}-01`,
    );
    expect(stored.get('b-2')?.json<{ traceparent: string }>().traceparent).toBe(own);
    expect(stored.get('b-2')?.headers.traceparent).toBe(
      `00-0123456789abcdef0123456789abcdef-${second.spanContext().spanId}-01`,
    );
  });
});
