import { connect as connectTcp } from 'node:net';
import { renderMetrics } from '@fuze/telemetry';
import { readStream, waitFor } from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type GatewayFixture, startGatewayFixture } from './gateway-fixture.js';

// biome-ignore lint/suspicious/noExplicitAny: HTTP answers are read as loose JSON in these tests
type Json = any;

let fx: GatewayFixture;
beforeAll(async () => {
  // Short request and publish timeouts, so that the slow-client and stopped-bus tests end quickly.
  fx = await startGatewayFixture({ FUZE_HTTP_REQUEST_TIMEOUT: '3s', FUZE_GATEWAY_PUBLISH_TIMEOUT: '2s' });
});
afterAll(async () => {
  await fx?.close();
});

const valid = { specversion: '1.0', id: 'e-1', source: '/bad-input', type: 'com.example.x' };

async function post(body: string | Buffer, contentType: string | undefined, path = '/v1/events') {
  const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
  const res = await fetch(`${fx.gatewayUrl}${path}`, { method: 'POST', headers, body });
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    body: (await res.json()) as Json,
  };
}

/** Sends `request` as it is on a new connection and returns everything the server answers. */
function rawRequest(request: string): Promise<string> {
  const { port } = new URL(fx.gatewayUrl);
  return new Promise<string>((resolve, reject) => {
    const socket = connectTcp(Number(port), '127.0.0.1', () => {
      socket.write(request);
    });
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

function structured(event: unknown) {
  return post(JSON.stringify(event), 'application/cloudevents+json');
}

describe('bad input gets a clear problem+json and loses nothing else', () => {
  test('malformed JSON -> 400 FUZE_MALFORMED_JSON', async () => {
    const res = await post('{"specversion": "1.0", "id": ', 'application/cloudevents+json');
    expect(res).toMatchObject({ status: 400, body: { code: 'FUZE_MALFORMED_JSON' } });
    expect(res.contentType).toMatch(/^application\/problem\+json/);
  });

  test.each([
    ['id', { ...valid, id: undefined }],
    ['source', { ...valid, source: undefined }],
    ['type', { ...valid, type: undefined }],
    ['specversion', { ...valid, specversion: undefined }],
  ])('missing %s -> 400 naming it', async (attribute, event) => {
    const res = await structured(event);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('FUZE_INVALID_EVENT');
    expect(res.body.errors).toContainEqual({
      pointer: attribute,
      message: `required attribute "${attribute}" is missing`,
    });
    expect(res.body.detail).toContain(attribute);
  });

  test('wrong specversion -> 400 naming specversion', async () => {
    const res = await structured({ ...valid, specversion: '0.3' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ pointer: 'specversion', message: 'must be "1.0"' }]);
  });

  test('schemaurl (CloudEvents 0.3) and broken data_base64 -> 400 naming each', async () => {
    const res = await structured({
      ...valid,
      schemaurl: 'https://schemas.example.com/x',
      data_base64: 'abcde',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual([
      'data_base64',
      'schemaurl',
    ]);
    expect(res.body.detail).toContain('dataschema');
  });

  test('a tracestate that would break a header line -> 400 naming tracestate', async () => {
    const res = await structured({ ...valid, tracestate: 'a=1\r\nNats-Msg-Id: forged' });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['tracestate']);
  });

  test('invalid extension names -> 400 naming each', async () => {
    const res = await structured({ ...valid, 'Bad-Name': 'x', waytoolongextensionname: 'y' });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual([
      'Bad-Name',
      'waytoolongextensionname',
    ]);
  });

  test('binary mode: invalid extension header -> 400', async () => {
    const res = await fetch(`${fx.gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': 'x',
        'ce-source': '/b',
        'ce-type': 't',
        'ce-my_ext': 'v',
      },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).errors[0].pointer).toBe('my_ext');
  });

  test('binary mode: a repeated ce-id header -> 400 naming it, not an id "b4, b5"', async () => {
    // fetch joins repeated headers itself: only a raw request sends two header lines.
    const answer = await rawRequest(
      'POST /v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n' +
        'ce-specversion: 1.0\r\nce-id: b4\r\nce-id: b5\r\nce-source: /b\r\nce-type: t\r\n' +
        'Content-Length: 2\r\n\r\n{}',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"FUZE_INVALID_EVENT"');
    expect(answer).toContain('ce-id came more than once');
  });

  test('bad attribute types and formats -> 400 naming the attribute', async () => {
    const res = await structured({ ...valid, time: 'yesterday', dataschema: 'not a uri', subject: 5 });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual([
      'dataschema',
      'subject',
      'time',
    ]);
  });

  test('data failing its registered schema -> 400 FUZE_INVALID_DATA naming the JSON path', async () => {
    const res = await structured({
      ...valid,
      type: 'com.example.order.placed',
      data: { orderId: 'o', total: -1 },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('FUZE_INVALID_DATA');
    expect(res.body.errors).toEqual([{ pointer: 'data.total', message: 'must be >= 0' }]);
  });

  test('an event over 256 KiB -> 413, in every mode', async () => {
    const big = 'x'.repeat(256 * 1024);
    const structuredRes = await structured({ ...valid, id: 'big-1', data: { big } });
    expect(structuredRes).toMatchObject({ status: 413, body: { code: 'FUZE_EVENT_TOO_LARGE' } });
    const binary = await fetch(`${fx.gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain',
        'ce-specversion': '1.0',
        'ce-id': 'big-2',
        'ce-source': '/b',
        'ce-type': 't',
      },
      body: big,
    });
    expect(binary.status).toBe(413);
    // in a batch the big entry is rejected alone
    const batch = await post(
      JSON.stringify([
        { ...valid, id: 'big-3', data: { big } },
        { ...valid, id: 'small-3' },
      ]),
      'application/cloudevents-batch+json',
    );
    expect(batch.status).toBe(207);
    expect(batch.body.results.map((r: { status: string }) => r.status)).toEqual(['rejected', 'accepted']);
    expect(batch.body.results[0].error.status).toBe(413);
  });

  test('a batch over 100 events -> 413 FUZE_BATCH_TOO_LARGE', async () => {
    const events = Array.from({ length: 101 }, (_, i) => ({ ...valid, id: `many-${i}` }));
    const res = await post(JSON.stringify(events), 'application/cloudevents-batch+json');
    expect(res).toMatchObject({ status: 413, body: { code: 'FUZE_BATCH_TOO_LARGE' } });
  });

  test.each([
    [
      'delay',
      { delay: '99999999999d' },
      /"99999999999d" is too long: the event would be due after 9999-12-31/,
    ],
    ['deliverat', { deliverat: '9999-12-31T23:59:59+00:00' }, null],
    ['deliverat', { deliverat: '9999-12-31T23:59:59-01:00' }, /must be no later than 9999-12-31/],
  ])('a due time past the year 9999 (%s) -> 400 naming it', async (pointer, extension, message) => {
    const res = await structured({ ...valid, id: `far-${pointer}-${String(message)}`, ...extension });
    if (message === null) {
      expect(res.status).toBe(202); // the last instant is still a due time
      return;
    }
    expect(res).toMatchObject({ status: 400, body: { code: 'FUZE_INVALID_EVENT' } });
    expect(res.body.errors).toEqual([{ pointer, message: expect.stringMatching(message) }]);
  });

  test('a batch with one bad delay: that entry alone is rejected, the others are stored', async () => {
    const events = [
      { ...valid, id: 'batch-good-1' },
      { ...valid, id: 'batch-far', delay: '99999999999d' },
      { ...valid, id: 'batch-good-2' },
    ];
    const res = await post(JSON.stringify(events), 'application/cloudevents-batch+json');
    expect(res.status).toBe(207);
    expect(res.body.results.map((r: Json) => [r.id, r.status])).toEqual([
      ['batch-good-1', 'accepted'],
      ['batch-far', 'rejected'],
      ['batch-good-2', 'accepted'],
    ]);
  });

  test('a batch that is not an array -> 400', async () => {
    const res = await post(JSON.stringify(valid), 'application/cloudevents-batch+json');
    expect(res).toMatchObject({ status: 400, body: { code: 'FUZE_INVALID_EVENT' } });
  });

  test.each([['application/json'], ['text/plain'], ['application/cloudevents+avro'], [undefined]])(
    'content type %s without ce-* headers -> 415',
    async (contentType) => {
      const res = await post(JSON.stringify(valid), contentType);
      expect(res.status).toBe(415);
      expect(res.body.code).toBe('FUZE_UNSUPPORTED_MEDIA_TYPE');
    },
  );

  test('an invalid bus name -> 404', async () => {
    const res = await post(
      JSON.stringify(valid),
      'application/cloudevents+json',
      '/v1/buses/Not_A_Bus/events',
    );
    expect(res.status).toBe(404);
    expect(res).toMatchObject({ body: { code: 'FUZE_NOT_FOUND', status: 404 } });
    expect(res.contentType).toMatch(/^application\/problem\+json/);
  });

  test('none of the bad requests stored anything, and good traffic still flows', async () => {
    const ok = await structured({ ...valid, id: 'after-bad-input' });
    expect(ok.status).toBe(202);
    const ids = (await readStream(fx.nc, fx.eventsStream)).map((m) => m.json<{ id: string }>().id);
    expect(ids).toContain('after-bad-input');
    expect(ids).toContain('small-3');
    expect(ids.filter((id) => id.startsWith('big-') || id.startsWith('many-') || id === 'x')).toEqual([]);
  });
});

describe("what Node's HTTP parser and fastify's router refuse is problem+json too", () => {
  test('headers over 16 KiB -> 431 FUZE_HEADERS_TOO_LARGE', async () => {
    const res = await fetch(`${fx.gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', 'x-padding': 'a'.repeat(20_000) },
      body: JSON.stringify(valid),
    });
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'FUZE_HEADERS_TOO_LARGE', status: 431 });
  });

  test('a path parameter over 1,024 characters -> 414 FUZE_URI_TOO_LONG; a 256-character timer key is fine', async () => {
    const long = await fetch(`${fx.gatewayUrl}/v1/buses/${'b'.repeat(1_100)}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(valid),
    });
    expect(long.status).toBe(414);
    expect(long.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await long.json()).toMatchObject({ code: 'FUZE_URI_TOO_LONG' });
    const key = `k${'x'.repeat(255)}`;
    const timer = await fetch(`${fx.adminUrl}/v1/timers/${key}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: { type: 'com.example.x', source: '/t' }, at: '2099-01-01T00:00:00Z' }),
    });
    expect(timer.status).toBe(201);
  });

  test('a body shorter than its Content-Length -> 408 FUZE_REQUEST_TIMEOUT, and the connection is closed', async () => {
    const answer = await rawRequest(
      'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/cloudevents+json\r\n' +
        'Content-Length: 100\r\n\r\n{"specversion"',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('application/problem+json');
    expect(answer).toContain('"code":"FUZE_REQUEST_TIMEOUT"');
  });
});

describe('a write JetStream refuses', () => {
  test('-> 503 FUZE_PUBLISH_FAILED problem+json, counted as rejected; the next event is stored', async () => {
    const jsm = await jetstreamManager(fx.nc);
    const info = await jsm.streams.info(fx.eventsStream);
    // A message-size limit on the stream makes JetStream refuse the write itself (not a retryable 503).
    await jsm.streams.update(fx.eventsStream, { ...info.config, max_msg_size: 64 });
    try {
      const refused = await structured({ ...valid, id: 'refused-by-jetstream' });
      expect(refused).toMatchObject({ status: 503, body: { code: 'FUZE_PUBLISH_FAILED' } });
      expect(refused.contentType).toMatch(/^application\/problem\+json/);
      expect(refused.body.detail).toMatch(/JetStream refused/);
      expect(refused.body.jetstreamCode).toBe(400); // JetStream's own code, beside Fuze's
      const { body: metrics } = await renderMetrics(); // the process's registry, as /metrics serves it
      expect(metrics).toMatch(/fuze_events_rejected_total\{reason="FUZE_PUBLISH_FAILED"\} [1-9]/);
    } finally {
      await jsm.streams.update(fx.eventsStream, { ...info.config, max_msg_size: -1 });
    }
    const stored = await structured({ ...valid, id: 'after-refused-write' });
    expect(stored.status).toBe(202);
    const ids = (await readStream(fx.nc, fx.eventsStream)).map((m) => m.json<{ id: string }>().id);
    expect(ids).toContain('after-refused-write');
    expect(ids).not.toContain('refused-by-jetstream');
  });
});

describe('a bus that cannot store (nats-server stopped: SIGSTOP)', () => {
  test('-> 503 FUZE_BUS_UNAVAILABLE with Retry-After at FUZE_GATEWAY_PUBLISH_TIMEOUT; a retry after it is stored once', async () => {
    const event = { ...valid, id: 'while-the-bus-is-stopped' };
    await fx.nats.pause();
    let answer: { status: number; retryAfter: string | null; body: Json };
    try {
      const res = await fetch(`${fx.gatewayUrl}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(event),
      });
      answer = {
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body: (await res.json()) as Json,
      };
    } finally {
      fx.nats.resume();
    }
    expect(answer).toMatchObject({
      status: 503,
      retryAfter: '5',
      body: { code: 'FUZE_BUS_UNAVAILABLE', retryAfterSeconds: 5 },
    });
    expect(answer.body.detail).toMatch(/within 2000 ms \(FUZE_GATEWAY_PUBLISH_TIMEOUT\)/);
    // The publish sent before the stop may be stored once the server runs again: the retry is then a duplicate.
    const retried = await waitFor(
      async () => {
        const res = await structured(event);
        return res.status === 202 ? res : undefined;
      },
      { timeoutMs: 20_000, message: 'the retry to be accepted' },
    );
    expect(['accepted', 'duplicate']).toContain(retried.body.status);
    const ids = (await readStream(fx.nc, fx.eventsStream)).map((m) => m.json<{ id: string }>().id);
    expect(ids.filter((id) => id === event.id)).toHaveLength(1);
  });
});
