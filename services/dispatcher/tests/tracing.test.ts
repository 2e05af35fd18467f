import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminModule } from '@fuze/admin';
import { streamNames } from '@fuze/core';
import { gatewayModule } from '@fuze/gateway';
import { routerModule } from '@fuze/router';
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
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dispatcherModule } from '../src/index.js';

// One event's whole trace: gateway -> events stream -> router -> delivery stream -> dispatcher ->
// HTTP attempt -> the target, with an in-memory exporter registered in this process (as `fuze serve`
// would with OTEL_* set); then a dead-lettered event replayed in a new trace linked to the first.
const prefix = 'DTRC';
const streams = streamNames(prefix);
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let nats: NatsServerHandle;
let db: TestDatabase;
let fuze: InProcessFuze;
let nc: NatsConnection;
let target: Server;
let metricsPort: number;
let gatewayUrl: string;
let adminUrl: string;
let sequence = 0;
/** Once true, the `/flaky` endpoint accepts (the replay succeeds). */
let healed = false;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
}
const received: Received[] = [];

function rules(targetUrl: string): string {
  return `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: orders }
spec:
  pattern: { type: [com.shop.order.placed] }
  targets:
    - name: billing
      http: { url: "${targetUrl}/billing", mode: binary }
---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: refunds }
spec:
  pattern: { type: [com.shop.order.refunded] }
  targets:
    - name: flaky
      http: { url: "${targetUrl}/flaky", mode: binary }
`;
}

function eventOf(type: string, extra: Record<string, unknown> = {}) {
  return {
    specversion: '1.0' as const,
    id: `dtrc-${process.pid}-${++sequence}`,
    source: '/shop',
    type,
    ...extra,
  };
}

async function post(event: object): Promise<number> {
  const res = await fetch(`${gatewayUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(event),
  });
  await res.arrayBuffer();
  return res.status;
}

async function admin<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${adminUrl}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** The requests the target received for one event (matched on its ce-id header). */
function requestsFor(eventId: string, path: string): Received[] {
  return received.filter((r) => r.path === path && r.headers['ce-id'] === eventId);
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
  target = createServer((req, res) => {
    received.push({ path: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => {
      res.statusCode = req.url === '/flaky' && !healed ? 400 : 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;

  nats = await startNatsServer();
  db = await createTestDatabase();
  const [gatewayPort, adminPort, opsPort] = await freePorts(3);
  metricsPort = opsPort!;
  fuze = await startInProcessFuze({
    modules: [adminModule, routerModule, gatewayModule, dispatcherModule],
    natsUrl: nats.url,
    env: {
      FUZE_DATABASE_URL: db.url,
      FUZE_STREAM_PREFIX: prefix,
      FUZE_GATEWAY_PORT: String(gatewayPort),
      FUZE_ADMIN_PORT: String(adminPort),
      FUZE_METRICS_PORT: String(metricsPort),
      ...(process.env.DTRC_DEBUG ? { FUZE_LOG_LEVEL: 'debug' } : {}),
    },
  });
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  adminUrl = `http://127.0.0.1:${adminPort}`;
  nc = await connect({ servers: nats.url });
  const applied = await admin('POST', '/v1/apply', {
    files: [{ path: 'rules.yaml', content: rules(targetUrl) }],
  });
  expect(applied.status).toBe(200);
  // Rules reload on a notice (router and dispatcher): wait until a probe reaches the target.
  await waitFor(
    async () => {
      const probe = eventOf('com.shop.order.placed');
      await post(probe);
      await new Promise((r) => setTimeout(r, 300));
      return requestsFor(probe.id, '/billing').length > 0;
    },
    { timeoutMs: 30_000, message: 'rules to be live up to the target' },
  );
});
afterAll(async () => {
  await nc?.close();
  await fuze?.stop();
  await db?.drop();
  await nats?.[Symbol.asyncDispose]();
  await telemetry?.shutdown();
  await new Promise((resolve) => target?.close(resolve));
});

describe('one trace per event, up to the target', () => {
  test('gateway publish (the request) -> router process -> delivery publish -> dispatcher process -> attempt -> target', async () => {
    const before = await scrape();
    const event = eventOf('com.shop.order.placed', { data: { orderId: 'o-1' } });
    expect(await post(event)).toBe(202);
    const [request] = await waitFor(() => {
      const found = requestsFor(event.id, '/billing');
      return found.length > 0 ? found : undefined;
    });

    // The target received the attempt span's context; ce-traceparent names where the event started.
    const traceparent = request!.headers.traceparent;
    const traceId = traceIdOf(traceparent);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdOf(request!.headers['ce-traceparent'])).toBe(traceId);

    const spans = await spansOf(traceId!, [
      'publish fuze.events',
      'process fuze.events',
      'publish fuze.deliver',
      'process fuze.deliver',
      'POST',
    ]);
    // The gateway's span for a single-event request is its publish.
    const publish = onlySpan(spans, 'publish fuze.events');
    const route = onlySpan(spans, 'process fuze.events');
    const deliver = onlySpan(spans, 'publish fuze.deliver');
    const dispatch = onlySpan(spans, 'process fuze.deliver');
    const attempt = onlySpan(spans, 'POST');

    expect(publish.parentSpanContext).toBeUndefined();
    expect(publish.attributes['http.route']).toBe('/v1/events');
    expect(parentIdOf(route)).toBe(spanIdOfSpan(publish));
    expect(parentIdOf(deliver)).toBe(spanIdOfSpan(route));
    expect(parentIdOf(dispatch)).toBe(spanIdOfSpan(deliver));
    expect(parentIdOf(attempt)).toBe(spanIdOfSpan(dispatch));
    expect(spanIdOf(traceparent)).toBe(spanIdOfSpan(attempt));

    expect(dispatch.kind).toBe(SpanKind.CONSUMER);
    expect(dispatch.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.destination.name': expect.stringMatching(/^dtrc\.deliver\.billing\./),
      'messaging.consumer.group.name': expect.stringMatching(/^DTRC_DLV_billing_/),
      'messaging.message.id': event.id,
      'fuze.target': 'billing',
      'fuze.rule': 'orders',
      'fuze.bus': 'default',
    });
    expect(attempt.kind).toBe(SpanKind.CLIENT);
    expect(attempt.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 204,
      'fuze.target': 'billing',
      'server.address': '127.0.0.1',
    });

    const after = await waitFor(async () => {
      const text = await scrape();
      return metricValue(text, 'fuze_deliveries_total', { target: 'billing', outcome: 'delivered' }) >
        metricValue(before, 'fuze_deliveries_total', { target: 'billing', outcome: 'delivered' })
        ? text
        : undefined;
    });
    expect(metricValue(after, 'fuze_delivery_latency_seconds_count', { target: 'billing' })).toBeGreaterThan(
      metricValue(before, 'fuze_delivery_latency_seconds_count', { target: 'billing' }),
    );
  });

  test('dead-lettered under a publish fuze.dlq span; the replay is a new trace linked to it', async () => {
    const before = await scrape();
    const event = eventOf('com.shop.order.refunded', { data: { orderId: 'r-1' } });
    expect(await post(event)).toBe(202);

    const record = await waitFor(
      async () =>
        (await readStream(nc, streams.dlq))
          .map((m) => m.json<{ id: string; attributes: { id: string }; traceparent?: string }>())
          .find((r) => r.attributes.id === event.id),
      { timeoutMs: 20_000, message: 'a dead letter' },
    );
    const [failed] = requestsFor(event.id, '/flaky');
    const originalTrace = traceIdOf(failed!.headers.traceparent)!;
    expect(traceIdOf(record.traceparent)).toBe(originalTrace);
    const spans = await spansOf(originalTrace, ['process fuze.deliver', 'POST', 'publish fuze.dlq']);
    const dispatch = onlySpan(spans, 'process fuze.deliver');
    const attempt = onlySpan(spans, 'POST');
    const dead = onlySpan(spans, 'publish fuze.dlq');
    expect(parentIdOf(attempt)).toBe(spanIdOfSpan(dispatch));
    expect(attempt.attributes['http.response.status_code']).toBe(400);
    expect(parentIdOf(dead)).toBe(spanIdOfSpan(dispatch));
    expect(spanIdOf(record.traceparent)).toBe(spanIdOfSpan(dead));
    expect(dead.attributes).toMatchObject({
      'fuze.target': 'flaky',
      'fuze.dead_letter.stage': 'deliver',
      'error.type': 'HttpStatusError',
    });

    const counted = await waitFor(async () => {
      const text = await scrape();
      const moved = (name: string, labels: Record<string, string>) =>
        metricValue(text, name, labels) > metricValue(before, name, labels);
      return moved('fuze_dead_lettered_total', { target: 'flaky', stage: 'deliver' }) &&
        moved('fuze_deliveries_total', { target: 'flaky', outcome: 'dead_lettered' })
        ? text
        : undefined;
    });
    expect(counted).toBeDefined();

    // Replay it once indexed, to a target that now accepts.
    healed = true;
    await waitFor(async () => (await admin('GET', `/v1/dlq/${record.id}`)).status === 200, {
      timeoutMs: 20_000,
      message: 'the dead letter to be indexed',
    });
    const replay = await admin<{ id: string }>('POST', '/v1/dlq/replay', { id: record.id });
    expect(replay.status).toBeLessThan(300);
    const replayed = await waitFor(() => requestsFor(event.id, '/flaky')[1], {
      timeoutMs: 20_000,
      message: 'the replayed delivery to reach the target',
    });
    const replayTrace = traceIdOf(replayed.headers.traceparent)!;
    expect(replayTrace).not.toBe(originalTrace);
    // The event's own context still names where it started.
    expect(replayed.headers['ce-traceparent']).toBe(failed!.headers['ce-traceparent']);

    const replaySpans = await spansOf(replayTrace, ['publish fuze.deliver', 'process fuze.deliver', 'POST']);
    const root = onlySpan(replaySpans, 'publish fuze.deliver');
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
      [originalTrace, spanIdOfSpan(dead)],
    ]);
    expect(root.attributes).toMatchObject({
      'fuze.replay.job': replay.body.id,
      'fuze.dead_letter.id': record.id,
      'fuze.target': 'flaky',
    });
    const replayDispatch = onlySpan(replaySpans, 'process fuze.deliver');
    expect(parentIdOf(replayDispatch)).toBe(spanIdOfSpan(root));
    const replayAttempt = onlySpan(replaySpans, 'POST');
    expect(parentIdOf(replayAttempt)).toBe(spanIdOfSpan(replayDispatch));
    expect(spanIdOf(replayed.headers.traceparent)).toBe(spanIdOfSpan(replayAttempt));

    const after = await waitFor(async () => {
      const text = await scrape();
      return metricValue(text, 'fuze_replayed_total', { target: 'flaky' }) >
        metricValue(before, 'fuze_replayed_total', { target: 'flaky' })
        ? text
        : undefined;
    });
    expect(
      metricValue(after, 'fuze_deliveries_total', { target: 'flaky', outcome: 'delivered' }),
    ).toBeGreaterThan(
      metricValue(before, 'fuze_deliveries_total', { target: 'flaky', outcome: 'delivered' }),
    );
  });
  test('an archive replay is a new trace per delivery, linked to where the event started', async () => {
    const from = new Date(Date.now() - 1).toISOString();
    const event = eventOf('com.shop.order.placed', { data: { orderId: 'o-archive' } });
    expect(await post(event)).toBe(202);
    const [live] = await waitFor(() => {
      const found = requestsFor(event.id, '/billing');
      return found.length > 0 ? found : undefined;
    });
    const originalTrace = traceIdOf(live!.headers['ce-traceparent'])!;
    const [publish] = await spansOf(originalTrace, ['publish fuze.events']);
    await new Promise((r) => setTimeout(r, 5));
    const replay = await admin<{ id: string }>('POST', '/v1/archive/replays', {
      bus: 'default',
      from,
      to: new Date().toISOString(),
      rules: ['orders'],
    });
    expect(replay.status).toBe(202);
    const replayed = await waitFor(() => requestsFor(event.id, '/billing')[1], {
      timeoutMs: 20_000,
      message: 'the replayed delivery to reach the target',
    });
    expect(replayed.headers['ce-fuzereplay']).toBe(replay.body.id);
    const replayTrace = traceIdOf(replayed.headers.traceparent)!;
    expect(replayTrace).not.toBe(originalTrace);
    expect(replayed.headers['ce-traceparent']).toBe(live!.headers['ce-traceparent']);
    const replaySpans = await spansOf(replayTrace, ['publish fuze.deliver', 'process fuze.deliver', 'POST']);
    const root = onlySpan(replaySpans, 'publish fuze.deliver');
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
      [originalTrace, spanIdOfSpan(publish!)],
    ]);
    expect(root.attributes).toMatchObject({ 'fuze.replay.job': replay.body.id, 'fuze.target': 'billing' });
    expect(root.attributes['fuze.dead_letter.id']).toBeUndefined();
    expect(parentIdOf(onlySpan(replaySpans, 'process fuze.deliver'))).toBe(spanIdOfSpan(root));
  });
});
