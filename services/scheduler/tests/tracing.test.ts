import { adminModule } from '@fuze/admin';
import { streamNames } from '@fuze/core';
import { startTelemetry, type Telemetry } from '@fuze/telemetry';
import {
  createTestDatabase,
  freePort,
  type InProcessFuze,
  type NatsServerHandle,
  readStream,
  startInProcessFuze,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { schedulerModule } from '../src/index.js';

// A timer's firing starts a new trace, linked to the trace of the request that set the timer.
const prefix = 'STRC';
const streams = streamNames(prefix);
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let nats: NatsServerHandle;
let db: TestDatabase;
let fuze: InProcessFuze;
let nc: NatsConnection;
let adminUrl: string;

beforeAll(async () => {
  telemetry = await startTelemetry({
    serviceName: 'fuze-test',
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  nats = await startNatsServer();
  db = await createTestDatabase();
  const adminPort = await freePort();
  fuze = await startInProcessFuze({
    modules: [adminModule, schedulerModule],
    natsUrl: nats.url,
    env: {
      FUZE_DATABASE_URL: db.url,
      FUZE_STREAM_PREFIX: prefix,
      FUZE_ADMIN_PORT: String(adminPort),
    },
  });
  adminUrl = `http://127.0.0.1:${adminPort}`;
  nc = await connect({ servers: nats.url });
});
afterAll(async () => {
  await nc?.close();
  await fuze?.stop();
  await db?.drop();
  await nats?.[Symbol.asyncDispose]();
  await telemetry?.shutdown();
});

test("a timer firing starts a new trace with a span link to the setter's trace", async () => {
  const setterTrace = 'feedfacefeedfacefeedfacefeedface';
  const setterSpan = '0102030405060708';
  const res = await fetch(`${adminUrl}/v1/timers/tracing-1`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', traceparent: `00-${setterTrace}-${setterSpan}-01` },
    body: JSON.stringify({
      event: { type: 'com.example.timer.fired', source: '/tests/tracing' },
      at: new Date(Date.now() + 200).toISOString(),
    }),
  });
  expect(res.status).toBe(201);

  const message = await waitFor(
    async () =>
      (await readStream(nc, streams.events)).find(
        (m) => m.json<{ source: string }>().source === '/tests/tracing',
      ),
    { timeoutMs: 20_000, message: 'the timer to fire' },
  );
  const event = message.json<{ id: string; traceparent?: string }>();
  const [, traceId, spanId] = String(event.traceparent).split('-');
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(traceId).not.toBe(setterTrace);
  // The header carries the firing's context too: the router continues this trace.
  expect(message.headers.traceparent).toBe(event.traceparent);

  const firing = await waitFor(() =>
    exporter.getFinishedSpans().find((s) => s.spanContext().spanId === spanId),
  );
  expect(firing.name).toBe('publish fuze.events');
  expect(firing.kind).toBe(SpanKind.PRODUCER);
  expect(firing.parentSpanContext).toBeUndefined();
  expect(firing.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([[setterTrace, setterSpan]]);
  expect(firing.attributes).toMatchObject({
    'fuze.timer.key': 'tracing-1',
    'messaging.message.id': event.id,
    'messaging.destination.name': expect.stringMatching(/^strc\.events\./),
  });
});
