import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  contextWithSpan,
  deadLetterSpan,
  deliverySpan,
  destinations,
  endHttpSpan,
  endSpan,
  linkFrom,
  processSpan,
  publishSpan,
  requestSpan,
  startTelemetry,
  type Telemetry,
  traceLogFields,
  tracingActive,
  withEventContext,
  withSpan,
} from '../src/index.js';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
const event = {
  id: 'e-1',
  source: '/shop',
  type: 'com.shop.order.placed',
  subject: 'o-1',
  specversion: '1.0',
};

beforeAll(async () => {
  expect(tracingActive()).toBe(false);
  // No OTEL_* exporter configured: nothing is registered.
  const off = await startTelemetry({ serviceName: 'fuze-test' });
  expect(off.tracing).toBe(false);
  expect(tracingActive()).toBe(false);
  telemetry = await startTelemetry({
    serviceName: 'fuze-test',
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  expect(telemetry.tracing).toBe(true);
});
afterAll(async () => {
  await telemetry.shutdown();
  expect(tracingActive()).toBe(false);
});
beforeEach(() => exporter.reset());

describe('messaging spans', () => {
  test('publish -> process follow the messaging conventions and chain parent to child', () => {
    const publish = publishSpan(destinations.events, 'fuze.events.default.3.com.shop.order.placed', event);
    endSpan(publish);
    const process = processSpan(destinations.events, 'fuze.events.default.3.com.shop.order.placed', event, {
      parent: trace.setSpan(context.active(), publish),
      consumer: 'router-3',
    });
    endSpan(process);
    const [p, c] = exporter.getFinishedSpans();
    expect(p?.name).toBe('publish fuze.events');
    expect(p?.kind).toBe(SpanKind.PRODUCER);
    expect(p?.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.system.name': 'nats',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.destination.name': 'fuze.events.default.3.com.shop.order.placed',
      'messaging.message.id': 'e-1',
      'cloudevents.event_id': 'e-1',
      'cloudevents.event_type': 'com.shop.order.placed',
      'cloudevents.event_source': '/shop',
      'cloudevents.event_subject': 'o-1',
    });
    expect(p?.resource.attributes['service.name']).toBe('fuze-test');
    expect(c?.name).toBe('process fuze.events');
    expect(c?.kind).toBe(SpanKind.CONSUMER);
    expect(c?.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.consumer.group.name': 'router-3',
    });
    expect(c?.parentSpanContext?.spanId).toBe(p?.spanContext().spanId);
    expect(c?.spanContext().traceId).toBe(p?.spanContext().traceId);
  });

  test('a replay starts a new trace linked to the original', () => {
    const original = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const replay = publishSpan(destinations.deliver, 'fuze.deliver.t.0', event, {
      parent: withEventContext({ traceparent: original }),
      root: true,
      links: linkFrom(original),
    });
    endSpan(replay);
    const [span] = exporter.getFinishedSpans();
    expect(span?.spanContext().traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.links[0]?.context.spanId).toBe('00f067aa0ba902b7');
  });

  test('dead-letter and delivery attempt spans', () => {
    const dead = deadLetterSpan('fuze.dlq.billing', event, {
      target: 'billing',
      rule: 'orders',
      stage: 'deliver',
      errorClass: 'HttpStatusError',
    });
    endSpan(dead, Object.assign(new Error('503 from target'), { code: 'FUZE_DELIVERY_FAILED' }));
    const attempt = deliverySpan({
      method: 'post',
      url: 'https://user:secret@billing.example:8443/hook?token=t',
      target: 'billing',
      rule: 'orders',
      attempt: 3,
    });
    endHttpSpan(attempt, 503);
    const [d, a] = exporter.getFinishedSpans();
    expect(d?.name).toBe('publish fuze.dlq');
    expect(d?.attributes).toMatchObject({
      'fuze.target': 'billing',
      'fuze.dead_letter.stage': 'deliver',
      'error.type': 'FUZE_DELIVERY_FAILED',
    });
    expect(d?.status.code).toBe(SpanStatusCode.ERROR);
    expect(d?.events[0]?.name).toBe('exception');
    expect(a?.name).toBe('POST');
    expect(a?.kind).toBe(SpanKind.CLIENT);
    expect(a?.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.full': 'https://billing.example:8443/hook',
      'server.address': 'billing.example',
      'server.port': 8443,
      'http.request.resend_count': 2,
      'http.response.status_code': 503,
      'error.type': '503',
    });
    expect(a?.status.code).toBe(SpanStatusCode.ERROR);
  });

  test('a server span is an error only from 500; a 4xx records error.type only', () => {
    const bad = requestSpan({ method: 'post', route: '/v1/events', path: '/v1/events' });
    endHttpSpan(bad, 400, Object.assign(new Error('bad'), { code: 'FUZE_INVALID_EVENT' }), 'server');
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('POST /v1/events');
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(span?.attributes['error.type']).toBe('FUZE_INVALID_EVENT');
  });
});

describe('log fields and the synchronous context manager', () => {
  test('trace_id and span_id while a span is active (synchronously), or of a given span', async () => {
    expect(traceLogFields()).toBeUndefined();
    const span = publishSpan(destinations.events, undefined, event);
    const ids = {
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId,
      trace_flags: '01',
    };
    let afterAwait: unknown = 'not run';
    const inside = withSpan(span, () => {
      void (async () => {
        await Promise.resolve();
        afterAwait = traceLogFields(); // the context does not follow awaits
      })();
      return traceLogFields();
    });
    await new Promise((r) => setImmediate(r));
    endSpan(span);
    expect(inside).toEqual(ids);
    expect(afterAwait).toBeUndefined();
    expect(traceLogFields()).toBeUndefined();
    expect(traceLogFields(span)).toEqual(ids);
    expect(traceLogFields(contextWithSpan(span))).toEqual(ids);
  });

  test('nested scopes restore the outer context, also when the inner one throws', () => {
    const outer = publishSpan(destinations.events, undefined, event);
    const inner = publishSpan(destinations.deliver, undefined, event);
    withSpan(outer, () => {
      expect(() =>
        withSpan(inner, () => {
          expect(traceLogFields()?.span_id).toBe(inner.spanContext().spanId);
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(traceLogFields()?.span_id).toBe(outer.spanContext().spanId);
    });
    expect(traceLogFields()).toBeUndefined();
  });
});
