import { startTelemetry, type Telemetry } from '@fuze/telemetry';
import { readStream, waitFor } from '@fuze/test/harness';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
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
    const firstTraceparent = `00-${first.spanContext().traceId}-${first.spanContext().spanId}-01`;
    expect(stored.get('b-1')?.json<{ traceparent: string }>().traceparent).toBe(firstTraceparent);
    expect(stored.get('b-1')?.headers.traceparent).toBe(firstTraceparent);
    expect(stored.get('b-2')?.json<{ traceparent: string }>().traceparent).toBe(own);
    expect(stored.get('b-2')?.headers.traceparent).toBe(
      `00-0123456789abcdef0123456789abcdef-${second.spanContext().spanId}-01`,
    );
  });
});

describe('tracing a single event', () => {
  test('a refused event is its publish span, with error.type and no ERROR status for a 4xx', async () => {
    const res = await fetch(`${fx.gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', id: 'bad-1', source: '/single' }),
    });
    expect(res.status).toBe(400);
    const span = await waitFor(() =>
      exporter.getFinishedSpans().find((s) => s.attributes['messaging.message.id'] === 'bad-1'),
    );
    expect(span.name).toBe('publish fuze.events');
    expect(span.attributes).toMatchObject({
      'http.response.status_code': 400,
      'error.type': 'FUZE_INVALID_EVENT',
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  test('a request that cannot be read is a server span', async () => {
    const res = await fetch(`${fx.gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents+json',
        traceparent: '00-abcdefabcdefabcdefabcdefabcdef02-3333333333333333-01',
      },
      body: '{"specversion": ',
    });
    expect(res.status).toBe(400);
    const span = await waitFor(() =>
      exporter.getFinishedSpans().find((s) => s.spanContext().traceId === 'abcdefabcdefabcdefabcdefabcdef02'),
    );
    expect(span.name).toBe('POST /v1/events');
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.attributes['http.response.status_code']).toBe(400);
  });

  test("one publish span with the request's HTTP attributes; the caller's traceparent and tracestate reach the stored event and its headers", async () => {
    const caller = '00-abcdefabcdefabcdefabcdefabcdef01-2222222222222222-01';
    const res = await fetch(`${fx.gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents+json',
        traceparent: caller,
        tracestate: 'vendor=1',
      },
      body: JSON.stringify({ specversion: '1.0', id: 's-1', source: '/single', type: 'com.example.thing' }),
    });
    expect(res.status).toBe(202);

    const publish = await waitFor(() =>
      exporter
        .getFinishedSpans()
        .find((s) => s.name === 'publish fuze.events' && s.attributes['messaging.message.id'] === 's-1'),
    );
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(publish.parentSpanContext?.spanId).toBe('2222222222222222');
    expect(publish.spanContext().traceId).toBe('abcdefabcdefabcdefabcdefabcdef01');
    expect(publish.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/events',
      'http.response.status_code': 202,
      'messaging.destination.name': expect.stringMatching(/\.events\.default\.\d+\.com\.example\.thing$/),
      'fuze.bus': 'default',
    });
    // No server span besides it: the request is the publish.
    expect(
      exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === publish.spanContext().traceId),
    ).toHaveLength(1);

    const message = (await readStream(fx.nc, fx.eventsStream)).find(
      (m) => m.json<{ id: string }>().id === 's-1',
    );
    const traceparent = `00-abcdefabcdefabcdefabcdefabcdef01-${publish.spanContext().spanId}-01`;
    expect(message?.json()).toMatchObject({ traceparent, tracestate: 'vendor=1' });
    expect(message?.headers).toMatchObject({ traceparent, tracestate: 'vendor=1' });
  });
});
