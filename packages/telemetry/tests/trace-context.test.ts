import { context, ROOT_CONTEXT, type SpanContext, TraceFlags, trace } from '@opentelemetry/api';
import { describe, expect, test } from 'vitest';
import {
  eventSpanParent,
  extractMessageContext,
  extractTraceContext,
  formatTraceparent,
  injectTraceContext,
  linkFrom,
  parseTraceparent,
  setEventTraceContext,
  withEventContext,
} from '../src/index.js';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const spanId = '00f067aa0ba902b7';
const traceparent = `00-${traceId}-${spanId}-01`;

function lookup(headers: Record<string, string>) {
  return { get: (name: string) => headers[name] ?? '', keys: () => Object.keys(headers) };
}

describe('traceparent', () => {
  test('parses a valid value into a remote, sampled span context and formats it back', () => {
    const parsed = parseTraceparent(traceparent);
    expect(parsed).toEqual({ traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    expect(formatTraceparent(parsed!)).toBe(traceparent);
    expect(formatTraceparent({ traceId, spanId, traceFlags: TraceFlags.NONE })).toBe(
      `00-${traceId}-${spanId}-00`,
    );
  });

  test.each([
    ['not a string', 42],
    ['garbage', 'hello'],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${spanId}-01`],
    ['all-zero span id', `00-${traceId}-${'0'.repeat(16)}-01`],
    ['version 00 with extra fields', `${traceparent}-extra`],
  ])('rejects %s', (_name, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
    expect(linkFrom(value)).toEqual([]);
  });
});

describe('headers', () => {
  test('extract reads nats-style header lookups and plain records; inject writes W3C headers', () => {
    for (const headers of [lookup({ traceparent }), { traceparent } as Record<string, string>]) {
      const ctx = extractTraceContext(headers);
      expect(trace.getSpanContext(ctx)).toMatchObject({ traceId, spanId, isRemote: true });
      const out: Record<string, string> = {};
      injectTraceContext(out, ctx);
      expect(out).toEqual({ traceparent });
    }
  });

  test('tracestate travels with traceparent', () => {
    const ctx = extractTraceContext({ traceparent, tracestate: 'vendor=abc' });
    const out: Record<string, string> = {};
    injectTraceContext(out, ctx);
    expect(out).toEqual({ traceparent, tracestate: 'vendor=abc' });
  });

  test('no or bad headers: the given parent comes back unchanged, and nothing is injected', () => {
    const parent = ROOT_CONTEXT.setValue(Symbol('x'), 1);
    expect(extractTraceContext({}, parent)).toBe(parent);
    expect(extractTraceContext(lookup({ traceparent: 'nope' }), parent)).toBe(parent);
    const out: Record<string, string> = {};
    injectTraceContext(out, ROOT_CONTEXT);
    expect(out).toEqual({});
  });

  test('a message context comes from its header first, then from the event attribute', () => {
    const other = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    const fromHeader = extractMessageContext(lookup({ traceparent }), { traceparent: other });
    expect(trace.getSpanContext(fromHeader)?.traceId).toBe(traceId);
    const fromEvent = extractMessageContext(lookup({}), { traceparent: other });
    expect(trace.getSpanContext(fromEvent)?.traceId).toBe('a'.repeat(32));
    expect(extractMessageContext(undefined, {})).toBe(ROOT_CONTEXT);
  });
});

describe('event attributes', () => {
  test('withEventContext makes the event trace the parent', () => {
    const ctx = withEventContext({ traceparent, tracestate: 'k=v' });
    const sc = trace.getSpanContext(ctx);
    expect(sc).toMatchObject({ traceId, spanId, isRemote: true });
    expect(sc?.traceState?.get('k')).toBe('v');
    expect(withEventContext({ id: 'x' })).toBe(ROOT_CONTEXT);
  });

  test('setEventTraceContext stamps traceparent and tracestate, replacing a stale tracestate', () => {
    const event: Record<string, unknown> = { id: '1', tracestate: 'stale=1' };
    const sc: SpanContext = { traceId, spanId, traceFlags: TraceFlags.SAMPLED };
    setEventTraceContext(event, sc);
    expect(event).toEqual({ id: '1', traceparent });
    setEventTraceContext(event, trace.wrapSpanContext({ ...sc, spanId: 'c'.repeat(16) }));
    expect(event.traceparent).toBe(`00-${traceId}-${'c'.repeat(16)}-01`);
  });

  test('linkFrom links to the trace a traceparent names', () => {
    expect(linkFrom(traceparent)).toEqual([{ context: { traceId, spanId, traceFlags: 1, isRemote: true } }]);
    expect(linkFrom(traceparent, { 'fuze.replay.job': 'j1' })[0]?.attributes).toEqual({
      'fuze.replay.job': 'j1',
    });
  });

  test('eventSpanParent: own trace continues; a request span of another trace becomes a link', () => {
    const request = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: 'd'.repeat(32),
      spanId: 'e'.repeat(16),
      traceFlags: 1,
    });
    const own = eventSpanParent({ traceparent }, request);
    expect(own.ownTrace).toBe(true);
    expect(trace.getSpanContext(own.parent)?.traceId).toBe(traceId);
    expect(own.links?.[0]?.context.spanId).toBe('e'.repeat(16));

    const same = eventSpanParent({ traceparent: `00-${'d'.repeat(32)}-${spanId}-01` }, request);
    expect(same).toEqual({ parent: request, ownTrace: true });

    expect(eventSpanParent({}, request)).toEqual({ parent: request, ownTrace: false });
    expect(eventSpanParent({}).parent).toBe(context.active());
  });
});
