import { seededRandom } from '@fuze/test/harness';
import {
  type Attributes,
  type AttributeValue,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, test } from 'vitest';
import { TraceRequestEncoder } from '../src/tracing/otlp/trace-request-encoder.js';

// The encoder's contract: byte for byte what the official serializer writes for the same spans.

function tracerOf(resource: Attributes, exporter: InMemorySpanExporter) {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    spanLimits: { attributeCountLimit: 10_000 },
  });
  return (name: string, version?: string, schemaUrl?: string) =>
    provider.getTracer(name, version, schemaUrl ? { schemaUrl } : undefined);
}

function expectSameBytes(encoder: TraceRequestEncoder, spans: ReadableSpan[]): void {
  const official = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
  const ours = Buffer.from(encoder.encode(spans));
  if (!ours.equals(official)) {
    let at = 0;
    while (at < ours.length && ours[at] === official[at]) at++;
    expect.fail(`bytes differ from offset ${at} (lengths ${ours.length} and ${official.length})`);
  }
}

const awkwardStrings = [
  '',
  'nats',
  'com.example.order.created',
  'x'.repeat(127),
  'y'.repeat(128),
  'z'.repeat(20_000),
  'grüße, 東京 🚀',
  'lone \ud800 surrogate',
  'trailing high \udbff',
  '\u007f\u0080\u07ff\u0800\uffff',
];

const awkwardValues: Array<AttributeValue | undefined> = [
  ...awkwardStrings,
  true,
  false,
  0,
  1,
  127,
  128,
  -1,
  -(2 ** 31),
  2 ** 32,
  2 ** 53 - 1,
  -(2 ** 53) + 1,
  2 ** 63,
  1.5,
  -0.25,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  [],
  ['a', 'b'],
  [1, 2.5, -3],
  [true, false],
  [null, 'after a null', undefined],
  'z'.repeat(300).split(''),
];

function pick<T>(next: () => number, from: readonly T[]): T {
  return from[Math.floor(next() * from.length)] as T;
}

describe('TraceRequestEncoder', () => {
  test('encodes a gateway-like batch exactly as the official serializer', () => {
    const exporter = new InMemorySpanExporter();
    const tracer = tracerOf({ 'service.name': 'fuze-gateway', 'process.pid': 42 }, exporter)('fuze', '0.1.0');
    for (let i = 0; i < 600; i++) {
      const span = tracer.startSpan('publish fuze.events', {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.message.id': `evt-${i}`,
          'cloudevents.event_type': `com.example.type${i % 5}`,
          'http.route': '/v1/events',
        },
      });
      span.setAttribute('http.response.status_code', 202);
      span.end();
    }
    const encoder = new TraceRequestEncoder();
    const spans = exporter.getFinishedSpans();
    // Three times: the second and third batches copy the resource, scope and repeated pairs.
    for (let i = 0; i < 3; i++) expectSameBytes(encoder, spans);
    expectSameBytes(encoder, spans.slice(0, 1));
    expectSameBytes(encoder, []);
  });

  test('encodes every kind of value, events, links, status, trace state and remote parents', () => {
    const exporter = new InMemorySpanExporter();
    const tracers = tracerOf({ 'service.name': 'fuze-test', list: ['a', 'b'], flag: true }, exporter);
    const tracer = tracers('fuze', '1.2.3', 'https://opentelemetry.io/schemas/1.26.0');
    const other = tracers('other-scope');
    const next = seededRandom(7);
    const remoteParent = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: new TraceState('vendor=value,other=1'),
    };
    for (let i = 0; i < 300; i++) {
      const attributes: Attributes = {};
      const count = Math.floor(next() * 12);
      for (let a = 0; a < count; a++)
        attributes[`key.${Math.floor(next() * 20)}`] = pick(next, awkwardValues);
      const span = (i % 3 === 0 ? other : tracer).startSpan(
        pick(next, awkwardStrings) || 'unnamed',
        {
          kind: pick(next, [
            SpanKind.INTERNAL,
            SpanKind.SERVER,
            SpanKind.CLIENT,
            SpanKind.PRODUCER,
            SpanKind.CONSUMER,
          ]),
          attributes,
          links:
            i % 4 === 0
              ? [
                  {
                    context: remoteParent,
                    attributes: { 'link.n': i, 'link.s': pick(next, awkwardStrings) },
                  },
                  { context: remoteParent },
                ]
              : [],
          root: i % 5 === 0,
        },
        i % 2 === 0 ? undefined : trace.setSpanContext(ROOT_CONTEXT, remoteParent),
      );
      if (i % 3 === 1) span.addEvent('exception', { 'exception.message': pick(next, awkwardStrings), n: i });
      if (i % 7 === 2) span.addEvent('bare');
      if (i % 6 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: pick(next, awkwardStrings) });
      if (i % 6 === 1) span.setStatus({ code: SpanStatusCode.OK });
      span.end();
    }
    const spans = exporter.getFinishedSpans();
    const encoder = new TraceRequestEncoder();
    expectSameBytes(encoder, spans);
    for (let start = 0; start < spans.length; start += 37)
      expectSameBytes(encoder, spans.slice(start, start + 37));
  });

  test('spans of several resources, and a span over 16 KiB', () => {
    const exporter = new InMemorySpanExporter();
    const first = tracerOf({ 'service.name': 'one' }, exporter)('fuze');
    const second = tracerOf({ 'service.name': 'two' }, exporter)('fuze');
    for (let i = 0; i < 10; i++) (i % 2 ? first : second).startSpan(`s${i}`).end();
    const big = first.startSpan('big', { attributes: { payload: 'p'.repeat(70_000) } });
    big.end();
    const encoder = new TraceRequestEncoder();
    expectSameBytes(encoder, exporter.getFinishedSpans());
  });

  test('an attribute with more values than are kept is still encoded right, before and after', () => {
    const exporter = new InMemorySpanExporter();
    const tracer = tracerOf({ 'service.name': 'ids' }, exporter)('fuze');
    const encoder = new TraceRequestEncoder();
    for (let round = 0; round < 4; round++) {
      exporter.reset();
      for (let i = 0; i < 50; i++) {
        tracer
          .startSpan('s', { attributes: { id: `id-${round}-${i}`, same: 'always', swap: i % 2 ? 'a' : 'b' } })
          .end();
      }
      expectSameBytes(encoder, exporter.getFinishedSpans());
    }
  });

  test('limits: dropped attributes, events and links are counted as the official serializer counts them', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
      spanLimits: {
        attributeCountLimit: 2,
        eventCountLimit: 1,
        linkCountLimit: 1,
        attributeValueLengthLimit: 5,
      },
    });
    const link = { context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 } };
    const span = provider.getTracer('limits').startSpan('limited', {
      attributes: { a: 'truncated value', b: 2, c: 3, d: 4 },
      links: [link, link, link],
    });
    span.addEvent('one');
    span.addEvent('two');
    span.end();
    const spans = exporter.getFinishedSpans();
    expect(spans[0]!.droppedAttributesCount).toBeGreaterThan(0);
    expect(spans[0]!.droppedEventsCount).toBe(1);
    expect(spans[0]!.droppedLinksCount).toBe(2);
    expectSameBytes(new TraceRequestEncoder(), spans);
  });

  test('many attribute keys, and a value past the longest kept, repeated across batches', () => {
    const exporter = new InMemorySpanExporter();
    const tracer = tracerOf({ 'service.name': 'keys' }, exporter)('fuze');
    const encoder = new TraceRequestEncoder();
    const long = 'L'.repeat(300);
    for (let round = 0; round < 3; round++) {
      exporter.reset();
      for (let i = 0; i < 40; i++) {
        const attributes: Attributes = { long, [`round.${round}`]: 'r' };
        for (let k = 0; k < 10; k++) attributes[`key.${i}.${k}`] = `v${k}`;
        tracer.startSpan('many', { attributes }).end();
      }
      expectSameBytes(encoder, exporter.getFinishedSpans());
    }
  });

  test('a result stays intact after the next encode', () => {
    const exporter = new InMemorySpanExporter();
    const tracer = tracerOf({ 'service.name': 'intact' }, exporter)('fuze');
    tracer.startSpan('first', { attributes: { n: 1 } }).end();
    const firstSpans = exporter.getFinishedSpans();
    exporter.reset();
    tracer.startSpan('second', { attributes: { n: 2, more: 'x'.repeat(5_000) } }).end();
    const encoder = new TraceRequestEncoder();
    const first = encoder.encode(firstSpans);
    const copy = Buffer.from(first);
    encoder.encode(exporter.getFinishedSpans());
    expect(Buffer.from(first).equals(copy)).toBe(true);
    expect(copy.equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(firstSpans)!))).toBe(true);
  });

  test('a resource still waiting for asynchronous attributes is not kept: once they arrive, they are sent', async () => {
    let settle: (value: string) => void = () => {};
    const late = new Promise<string>((resolve) => {
      settle = resolve;
    });
    // The SDK's processors wait for such a resource before they export; an exporter used directly may not.
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'async', 'host.id': late }),
    });
    const span = provider.getTracer('fuze').startSpan('early');
    span.end();
    const spans = [span as unknown as ReadableSpan];
    const encoder = new TraceRequestEncoder();
    expect(spans[0]!.resource.asyncAttributesPending).toBe(true);
    expectSameBytes(encoder, spans);
    settle('host-42');
    await spans[0]!.resource.waitForAsyncAttributes?.();
    expectSameBytes(encoder, spans);
    expect(Buffer.from(encoder.encode(spans)).includes(Buffer.from('host-42'))).toBe(true);
  });
});
