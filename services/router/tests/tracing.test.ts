import { adminModule } from '@fuze/admin';
import { type DeliveryEnvelope, decodeDeliveryMessage, streamNames } from '@fuze/core';
import { gatewayModule } from '@fuze/gateway';
import { createPublisher } from '@fuze/sdk';
import { startTelemetry, type Telemetry } from '@fuze/telemetry';
import {
  createTestDatabase,
  finishedSpansOf,
  freePorts,
  type InProcessFuze,
  metricValue,
  type NatsServerHandle,
  onlySpan,
  parentIdOf,
  readStream,
  spanIdOf,
  spanIdOfSpan,
  startInProcessFuze,
  startNatsServer,
  type TestDatabase,
  traceIdOf,
  waitFor,
} from '@fuze/test/harness';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type Span, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { routerModule } from '../src/index.js';

// One event's trace across gateway (or SDK) -> events stream -> router -> delivery stream, with an
// in-memory exporter registered in this process, as `fuze serve` would with OTEL_* set.
const prefix = 'TRC';
const streams = streamNames(prefix);
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let nats: NatsServerHandle;
let db: TestDatabase;
let fuze: InProcessFuze;
let nc: NatsConnection;
let metricsPort: number;
let gatewayUrl: string;
let adminUrl: string;
let sequence = 0;

const rules = `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: orders }
spec:
  pattern: { type: [com.shop.order.placed] }
  targets:
    - name: billing
      consumer: {}
    - name: audit
      consumer: {}
      input: { paths: { id: "$.data.orderId" }, template: '{"order": <id>}' }
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: every-shop-event }
spec:
  pattern: { type: [{ prefix: com.shop. }] }
  targets: [{ name: archive, consumer: {} }]
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: fragile }
spec:
  pattern: { type: [com.fragile.thing] }
  targets:
    - name: fragile-target
      consumer: {}
      input: { paths: { blob: "$.data.blob" }, template: '[<blob>, <blob>, <blob>, <blob>, <blob>]' }
`;

function eventOf(type: string, extra: Record<string, unknown> = {}) {
  return {
    specversion: '1.0' as const,
    id: `trc-${process.pid}-${++sequence}`,
    source: '/shop',
    type,
    ...extra,
  };
}

async function post(event: object, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${gatewayUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json', ...headers },
    body: JSON.stringify(event),
  });
  await res.arrayBuffer();
  return res.status;
}

interface StoredDelivery {
  traceparent: string | undefined;
  envelope: DeliveryEnvelope;
}

/** A delivery-stream message read back as the envelope consumers see. */
function envelopeOf(m: { headers: Record<string, string>; data: Uint8Array }): DeliveryEnvelope {
  return decodeDeliveryMessage(
    { get: (k) => m.headers[k] ?? '', keys: () => Object.keys(m.headers) },
    m.data,
  );
}

async function deliveriesOf(eventId: string, count: number): Promise<StoredDelivery[]> {
  return waitFor(
    async () => {
      const found = (await readStream(nc, streams.delivery))
        .map((m) => ({
          traceparent: m.headers.traceparent,
          envelope: envelopeOf(m),
        }))
        .filter((d) => d.envelope.attributes.id === eventId);
      return found.length >= count ? found : undefined;
    },
    { timeoutMs: 20_000, message: `${count} deliveries of ${eventId}` },
  );
}

async function storedEvent(eventId: string): Promise<Record<string, unknown>> {
  const messages = await readStream(nc, streams.events);
  const event = messages.map((m) => m.json<Record<string, unknown>>()).find((e) => e.id === eventId);
  if (!event) throw new Error(`${eventId} is not in the events stream`);
  return event;
}

const spansOf = (traceId: string, names: string[]) => finishedSpansOf(exporter, traceId, names);

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

beforeAll(async () => {
  telemetry = await startTelemetry({
    serviceName: 'fuze-test',
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  nats = await startNatsServer();
  db = await createTestDatabase();
  const [gatewayPort, adminPort, opsPort] = await freePorts(3);
  metricsPort = opsPort!;
  fuze = await startInProcessFuze({
    modules: [adminModule, routerModule, gatewayModule],
    natsUrl: nats.url,
    env: {
      FUZE_DATABASE_URL: db.url,
      FUZE_STREAM_PREFIX: prefix,
      FUZE_GATEWAY_PORT: String(gatewayPort),
      FUZE_ADMIN_PORT: String(adminPort),
      FUZE_METRICS_PORT: String(metricsPort),
    },
  });
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  adminUrl = `http://127.0.0.1:${adminPort}`;
  nc = await connect({ servers: nats.url });
  const applied = await fetch(`${adminUrl}/v1/apply`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ files: [{ path: 'rules.yaml', content: rules }] }),
  });
  expect(applied.status).toBe(200);
  // The router reloads rules on a notice: wait until they route.
  await waitFor(
    async () => {
      const probe = eventOf('com.shop.probe');
      await post(probe);
      await new Promise((r) => setTimeout(r, 200));
      return (await readStream(nc, streams.delivery)).some((m) => envelopeOf(m).attributes.id === probe.id);
    },
    { timeoutMs: 20_000, message: 'rules to be live' },
  );
});
afterAll(async () => {
  await nc?.close();
  await fuze?.stop();
  await db?.drop();
  await nats?.[Symbol.asyncDispose]();
  await telemetry?.shutdown();
});

describe('one trace per event', () => {
  test('gateway publish (the request) -> router process -> delivery publish, one trace id, stamped into the event and each delivery', async () => {
    const event = eventOf('com.shop.order.placed', { data: { orderId: 'o-1' } });
    expect(await post(event)).toBe(202);
    const deliveries = await deliveriesOf(event.id, 3);

    const stored = await storedEvent(event.id);
    const traceId = traceIdOf(stored.traceparent);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    for (const d of deliveries) {
      expect(traceIdOf(d.traceparent)).toBe(traceId);
      // The event's own context (where it started) rides along unchanged as ce-traceparent.
      expect(d.envelope.attributes.traceparent).toBe(stored.traceparent);
    }

    const spans = await spansOf(traceId!, ['publish fuze.events', 'process fuze.events']);
    // A single-event request is one span: the publish, with the request's HTTP attributes.
    expect(spans.filter((s) => s.name === 'POST /v1/events')).toEqual([]);
    const publish = onlySpan(spans, 'publish fuze.events');
    const process = onlySpan(spans, 'process fuze.events');
    const deliver = await waitFor(() => {
      const found = exporter
        .getFinishedSpans()
        .filter((s) => s.name === 'publish fuze.deliver' && parentIdOf(s) === spanIdOfSpan(process));
      return found.length === 3 ? found : undefined;
    });

    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(publish.parentSpanContext).toBeUndefined();
    expect(spanIdOf(stored.traceparent)).toBe(spanIdOfSpan(publish));
    expect(publish.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/events',
      'http.response.status_code': 202,
      'messaging.system': 'nats',
      'messaging.operation.type': 'send',
      'messaging.destination.name': expect.stringMatching(
        /^trc\.events\.default\.\d+\.com\.shop\.order\.placed$/,
      ),
      'messaging.message.id': event.id,
      'cloudevents.event_id': event.id,
      'cloudevents.event_type': 'com.shop.order.placed',
      'cloudevents.event_source': '/shop',
      'fuze.bus': 'default',
    });

    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(parentIdOf(process)).toBe(spanIdOfSpan(publish));
    expect(process.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.message.id': event.id,
    });
    expect([...(process.attributes['fuze.rule.names'] as string[])].sort()).toEqual([
      'every-shop-event',
      'orders',
    ]);
    expect(String(process.attributes['messaging.consumer.group.name'])).toMatch(/^router-\d+$/);

    // Each delivery's traceparent header names its own publish span: the dispatcher continues from it.
    expect(deliver.map((s) => s.attributes['fuze.target']).sort()).toEqual(['archive', 'audit', 'billing']);
    for (const d of deliveries) {
      const span = deliver.find((s) => s.attributes['fuze.target'] === d.envelope.target)!;
      expect(spanIdOf(d.traceparent)).toBe(spanIdOfSpan(span));
      expect(span.kind).toBe(SpanKind.PRODUCER);
      expect(span.attributes).toMatchObject({
        'messaging.destination.name': expect.stringMatching(/^trc\.deliver\./),
        'fuze.rule': d.envelope.rule,
      });
    }
  });

  test("an incoming traceparent header is honoured: the caller's trace continues to the deliveries", async () => {
    const callerTrace = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    const callerSpan = 'abcdef0123456789';
    const event = eventOf('com.shop.order.placed', { data: { orderId: 'o-2' } });
    expect(await post(event, { traceparent: `00-${callerTrace}-${callerSpan}-01` })).toBe(202);
    const deliveries = await deliveriesOf(event.id, 3);
    for (const d of deliveries) expect(traceIdOf(d.traceparent)).toBe(callerTrace);
    expect(traceIdOf((await storedEvent(event.id)).traceparent)).toBe(callerTrace);
    const spans = await spansOf(callerTrace, ['publish fuze.events', 'process fuze.events']);
    expect(parentIdOf(onlySpan(spans, 'publish fuze.events'))).toBe(callerSpan);
  });

  test('an event that brings its own traceparent keeps it, and Fuze continues that trace', async () => {
    const own = '00-0123456789abcdef0123456789abcdef-1111111111111111-01';
    const event = eventOf('com.shop.order.placed', { traceparent: own, data: { orderId: 'o-3' } });
    expect(await post(event)).toBe(202);
    const deliveries = await deliveriesOf(event.id, 3);
    expect((await storedEvent(event.id)).traceparent).toBe(own);
    for (const d of deliveries) expect(traceIdOf(d.traceparent)).toBe('0123456789abcdef0123456789abcdef');
    const spans = await spansOf('0123456789abcdef0123456789abcdef', [
      'publish fuze.events',
      'process fuze.events',
    ]);
    const publish = onlySpan(spans, 'publish fuze.events');
    expect(parentIdOf(publish)).toBe('1111111111111111');
    expect(parentIdOf(onlySpan(spans, 'process fuze.events'))).toBe(spanIdOfSpan(publish));
  });

  test.each(['nats', 'http'] as const)(
    "SDK publish (%s) inside the app's span: one trace from the app to the deliveries",
    async (transport) => {
      const publisher =
        transport === 'nats'
          ? createPublisher({ natsUrl: nats.url, streamPrefix: prefix })
          : createPublisher({ gatewayUrl });
      const event = eventOf('com.shop.order.placed', { data: { orderId: `o-${transport}` } });
      let app: Span | undefined;
      await trace.getTracer('shop-app').startActiveSpan('checkout', async (span) => {
        app = span;
        await publisher.publish(event);
        span.end();
      });
      await publisher.close();
      const traceId = app!.spanContext().traceId;
      const deliveries = await deliveriesOf(event.id, 3);
      for (const d of deliveries) expect(traceIdOf(d.traceparent)).toBe(traceId);

      const spans = await spansOf(traceId, ['checkout', 'publish fuze.events', 'process fuze.events']);
      const sdkPublish = onlySpan(
        spans,
        'publish fuze.events',
        (s) => parentIdOf(s) === app!.spanContext().spanId,
      );
      expect(sdkPublish.kind).toBe(SpanKind.PRODUCER);
      expect(sdkPublish.attributes['messaging.message.id']).toBe(event.id);
      // The event carries the SDK's publish span as where it started.
      expect(spanIdOf((await storedEvent(event.id)).traceparent)).toBe(spanIdOfSpan(sdkPublish));
      const process = onlySpan(spans, 'process fuze.events');
      if (transport === 'nats') {
        expect(parentIdOf(process)).toBe(spanIdOfSpan(sdkPublish));
      } else {
        // HTTP: SDK publish -> the gateway's publish (the request's span) -> router.
        const gatewayPublish = onlySpan(
          spans,
          'publish fuze.events',
          (s) => parentIdOf(s) === spanIdOfSpan(sdkPublish),
        );
        expect(gatewayPublish.attributes['http.route']).toBe('/v1/events');
        expect(parentIdOf(process)).toBe(spanIdOfSpan(gatewayPublish));
      }
    },
  );

  test('a delivery the router cannot build is dead-lettered under a publish fuze.dlq span of the same trace', async () => {
    const event = eventOf('com.fragile.thing', { data: { blob: 'x'.repeat(250_000) } });
    expect(await post(event)).toBe(202);
    const record = await waitFor(
      async () =>
        (await readStream(nc, streams.dlq))
          .map((m) => m.json<{ attributes: { id: string }; traceparent?: string; target: string }>())
          .find((r) => r.attributes.id === event.id),
      { timeoutMs: 20_000, message: 'a dead letter' },
    );
    const traceId = traceIdOf((await storedEvent(event.id)).traceparent)!;
    expect(traceIdOf(record.traceparent)).toBe(traceId);
    const spans = await spansOf(traceId, ['process fuze.events', 'publish fuze.dlq']);
    const dlq = onlySpan(spans, 'publish fuze.dlq');
    expect(spanIdOf(record.traceparent)).toBe(spanIdOfSpan(dlq));
    expect(parentIdOf(dlq)).toBe(spanIdOfSpan(onlySpan(spans, 'process fuze.events')));
    expect(dlq.attributes).toMatchObject({
      'fuze.target': 'fragile-target',
      'fuze.dead_letter.stage': 'route',
      'error.type': 'DeliveryTooLargeError',
    });
  });
});

describe('/metrics on the ops port', () => {
  test('ingest and routing counters move; stream gauges read JetStream', async () => {
    const before = await scrape();
    const matched = eventOf('com.shop.order.placed', { data: { orderId: 'm-1' } });
    expect(await post(matched)).toBe(202);
    expect(await post(matched)).toBe(202); // a duplicate: same source and id
    expect(await post(eventOf('com.nobody.listens'))).toBe(202);
    expect(await post({ specversion: '1.0', id: 'no-type', source: '/shop' })).toBe(400);
    expect(await post(eventOf('com.fragile.thing', { data: { blob: 'y'.repeat(250_000) } }))).toBe(202);

    const delta = (text: string, name: string, labels: Record<string, string>) =>
      metricValue(text, name, labels) - metricValue(before, name, labels);
    const after = await waitFor(
      async () => {
        const text = await scrape();
        return delta(text, 'fuze_events_unmatched_total', { bus: 'default' }) >= 1 &&
          delta(text, 'fuze_dead_lettered_total', { target: 'fragile-target', stage: 'route' }) >= 1 &&
          delta(text, 'fuze_events_matched_total', { bus: 'default', rule: 'orders' }) >= 1
          ? text
          : undefined;
      },
      { timeoutMs: 20_000, message: 'router counters to move' },
    );
    expect(delta(after, 'fuze_events_accepted_total', { bus: 'default' })).toBe(3);
    expect(delta(after, 'fuze_events_duplicates_total', { bus: 'default' })).toBe(1);
    expect(delta(after, 'fuze_events_rejected_total', { reason: 'FUZE_INVALID_EVENT' })).toBe(1);
    expect(delta(after, 'fuze_events_matched_total', { bus: 'default', rule: 'orders' })).toBe(1);
    expect(delta(after, 'fuze_events_matched_total', { bus: 'default', rule: 'every-shop-event' })).toBe(1);
    expect(delta(after, 'fuze_events_unmatched_total', { bus: 'default' })).toBe(1);
    expect(delta(after, 'fuze_dead_lettered_total', { target: 'fragile-target', stage: 'route' })).toBe(1);
    expect(after).toContain('# TYPE fuze_delivery_latency_seconds histogram');
    expect(after).toContain('fuze_process_cpu_seconds_total');

    // Collect-time gauges (cached for a few seconds between scrapes, hence the wait).
    const gauges = await waitFor(
      async () => {
        const text = await scrape();
        return metricValue(text, 'fuze_dlq_depth', { target: 'fragile-target' }) >= 1 ? text : undefined;
      },
      { timeoutMs: 20_000, message: 'dlq depth' },
    );
    expect(gauges).toMatch(
      new RegExp(`fuze_consumer_lag\\{stream="${streams.events}",consumer="router-\\d+"\\} \\d+`),
    );
  });
});
