import { describe, expect, test } from 'vitest';
import { withTraceAttributes } from '../src/stamp-trace.js';

const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString();

describe('withTraceAttributes', () => {
  test('puts the trace attributes first and keeps the rest byte for byte', () => {
    const received = Buffer.from(' \n{ "id": "1",\n  "data": {"a": [1, 2]} }');
    const stamped = text(withTraceAttributes(received, { traceparent, tracestate: 'k="v",x=\\y' }));
    expect(stamped).toBe(
      `{"traceparent":"${traceparent}","tracestate":"k=\\"v\\",x=\\\\y", "id": "1",\n  "data": {"a": [1, 2]} }`,
    );
    expect(JSON.parse(stamped!)).toEqual({
      traceparent,
      tracestate: 'k="v",x=\\y',
      id: '1',
      data: { a: [1, 2] },
    });
  });

  test('without a tracestate only traceparent is added', () => {
    expect(JSON.parse(text(withTraceAttributes(Buffer.from('{"id":"1"}'), { traceparent }))!)).toEqual({
      traceparent,
      id: '1',
    });
  });

  test('refuses what is not a non-empty JSON object', () => {
    for (const body of ['[1]', '"x"', '{ }', '', '  ']) {
      expect(withTraceAttributes(Buffer.from(body), { traceparent }), body).toBeUndefined();
    }
  });
});
