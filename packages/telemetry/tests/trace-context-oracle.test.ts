import { seededRandom } from '@fuze/test/harness';
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { suppressTracing, W3CTraceContextPropagator } from '@opentelemetry/core';
import { describe, expect, test } from 'vitest';
import { extractTraceContext, injectTraceContext } from '../src/index.js';

// trace-context.ts writes and reads W3C headers on @opentelemetry/api alone (ADR 0005). This holds
// it to @opentelemetry/core's W3CTraceContextPropagator, the library it stands in for, on the
// values a peer can send: valid, malformed, other versions, padded, split tracestate.
const w3c = new W3CTraceContextPropagator();
const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const spanId = '00f067aa0ba902b7';

function mutations(): string[] {
  const random = seededRandom(20261204);
  const alphabet = '0123456789abcdefABCDEF- fxz';
  const base = `00-${traceId}-${spanId}-01`;
  const values = [
    base,
    `00-${traceId}-${spanId}-00`,
    `00-${traceId}-${spanId}-ff`,
    ` ${base}`,
    `${base} `,
    `  ${base}`,
    `\t${base}`,
    `${base}-`,
    `${base}-extra`,
    `01-${traceId}-${spanId}-01`,
    `01-${traceId}-${spanId}-01-future-parts`,
    `ff-${traceId}-${spanId}-01`,
    `cc-${traceId}-${spanId}-09-x`,
    `00-${'0'.repeat(32)}-${spanId}-01`,
    `00-${traceId}-${'0'.repeat(16)}-01`,
    `00-${traceId.toUpperCase()}-${spanId}-01`,
    `00-${traceId}-${spanId}`,
    `00-${traceId}-${spanId}-1`,
    '',
    'garbage',
  ];
  for (let i = 0; i < 2_000; i++) {
    const chars = [...base];
    const edits = 1 + Math.floor(random() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * chars.length);
      const pick = alphabet[Math.floor(random() * alphabet.length)] as string;
      const kind = random();
      if (kind < 0.6) chars[at] = pick;
      else if (kind < 0.8) chars.splice(at, 1);
      else chars.splice(at, 0, pick);
    }
    values.push(chars.join(''));
  }
  return values;
}

const traceStates = [undefined, '', 'vendor=value', 'a=1,b=2', ['a=1', 'b=2'], 'bad state', 'k=v,,x=y'];

describe('W3C trace context against @opentelemetry/core', () => {
  test('extract reads the same span context from every header value', () => {
    let compared = 0;
    for (const traceparent of mutations()) {
      for (const tracestate of traceStates) {
        const headers: Record<string, string | string[]> = { traceparent };
        if (tracestate !== undefined) headers.tracestate = tracestate;
        const expected = trace.getSpanContext(w3c.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
        const actual = trace.getSpanContext(extractTraceContext(headers));
        expect({ traceparent, tracestate, context: strip(actual) }).toEqual({
          traceparent,
          tracestate,
          context: strip(expected),
        });
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(10_000);
  });

  test('inject writes the same headers for valid, invalid and suppressed contexts', () => {
    const contexts = [
      { traceId, spanId, traceFlags: 1 },
      { traceId, spanId, traceFlags: 0 },
      { traceId: '0'.repeat(32), spanId, traceFlags: 1 },
      { traceId, spanId: 'xyz', traceFlags: 1 },
    ];
    for (const spanContext of contexts) {
      for (const suppressed of [false, true]) {
        let ctx = trace.setSpanContext(ROOT_CONTEXT, spanContext);
        if (suppressed) ctx = suppressTracing(ctx);
        const expected: Record<string, string> = {};
        w3c.inject(ctx, expected, defaultTextMapSetter);
        const actual: Record<string, string> = {};
        injectTraceContext(actual, ctx);
        expect(actual).toEqual(expected);
      }
    }
    const withState = w3c.extract(
      ROOT_CONTEXT,
      { traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'a=1,b=2' },
      defaultTextMapGetter,
    );
    const expected: Record<string, string> = {};
    w3c.inject(withState, expected, defaultTextMapSetter);
    const actual: Record<string, string> = {};
    injectTraceContext(actual, withState);
    expect(actual).toEqual(expected);
    expect(actual.tracestate).toBe('a=1,b=2');
  });
});

/** The comparable parts of a span context: ids, flags, remoteness and the serialised trace state. */
function strip(spanContext: ReturnType<typeof trace.getSpanContext>) {
  if (!spanContext) return undefined;
  const { traceId, spanId, traceFlags, isRemote, traceState } = spanContext;
  return { traceId, spanId, traceFlags, isRemote, traceState: traceState?.serialize() };
}
