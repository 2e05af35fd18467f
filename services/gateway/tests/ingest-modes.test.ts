import { readStream } from '@fuze/test/harness';
import { CloudEvent, emitterFor, httpTransport, Mode } from 'cloudevents';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type GatewayFixture, startGatewayFixture } from './gateway-fixture.js';

// biome-ignore lint/suspicious/noExplicitAny: HTTP answers are read as loose JSON in these tests
type Json = any;

let fx: GatewayFixture;
beforeAll(async () => {
  fx = await startGatewayFixture();
});
afterAll(async () => {
  await fx?.close();
});

async function storedEvents(): Promise<Array<Record<string, unknown>>> {
  return (await readStream(fx.nc, fx.eventsStream)).map((m) => m.json<Record<string, unknown>>());
}

async function post(body: string, contentType: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${fx.gatewayUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body,
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    body: (await res.json()) as Json,
  };
}

describe('CloudEvents in through the official cloudevents SDK', () => {
  test('binary mode arrives intact in the events stream', async () => {
    const emit = emitterFor(httpTransport(`${fx.gatewayUrl}/v1/events`), { mode: Mode.BINARY });
    const event = new CloudEvent({
      type: 'com.example.order.placed',
      source: '/shop/sdk-binary',
      subject: 'order-1',
      partitionkey: 'customer-7',
      data: { orderId: 'o-1', total: 120.5, lines: [{ sku: 'a', qty: 2 }] },
    });
    await emit(event);
    const stored = (await storedEvents()).find((e) => e.source === '/shop/sdk-binary');
    expect(stored).toMatchObject({
      specversion: '1.0',
      id: event.id,
      type: 'com.example.order.placed',
      subject: 'order-1',
      partitionkey: 'customer-7',
      time: event.time,
      // binary mode: datacontenttype is the Content-Type header, charset and all
      datacontenttype: 'application/json; charset=utf-8',
      data: { orderId: 'o-1', total: 120.5, lines: [{ sku: 'a', qty: 2 }] },
    });
  });

  test('structured mode arrives intact in the events stream', async () => {
    const emit = emitterFor(httpTransport(`${fx.gatewayUrl}/v1/events`), { mode: Mode.STRUCTURED });
    const event = new CloudEvent({
      type: 'com.example.order.placed',
      source: '/shop/sdk-structured',
      data: { orderId: 'o-2', total: 3 },
      tenant: 'acme',
    });
    await emit(event);
    const stored = (await storedEvents()).find((e) => e.source === '/shop/sdk-structured');
    expect(stored).toMatchObject({ id: event.id, tenant: 'acme', data: { orderId: 'o-2', total: 3 } });
  });

  test('binary mode with non-JSON data keeps the bytes (data_base64) and text (data)', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const res = await fetch(`${fx.gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'ce-specversion': '1.0',
        'ce-id': 'bin-1',
        'ce-source': '/raw',
        'ce-type': 'com.example.blob',
        'ce-subject': 'caf%C3%A9', // percent-encoded UTF-8, per the HTTP binding
      },
      body: bytes,
    });
    expect(res.status).toBe(202);
    const text = await post('hello world', 'text/plain', {
      'ce-specversion': '1.0',
      'ce-id': 'txt-1',
      'ce-source': '/raw',
      'ce-type': 'com.example.note',
    });
    expect(text.status).toBe(202);
    const events = await storedEvents();
    const blob = events.find((e) => e.id === 'bin-1');
    expect(blob).toMatchObject({ subject: 'café', datacontenttype: 'application/octet-stream' });
    expect(Buffer.from(String(blob?.data_base64), 'base64')).toEqual(bytes);
    expect(events.find((e) => e.id === 'txt-1')).toMatchObject({ data: 'hello world' });
  });
});

describe('stored bytes', () => {
  const minimal = (id: string) => ({ specversion: '1.0', id, source: '/raw', type: 'com.example.x' });

  async function storedPayload(id: string): Promise<string> {
    const messages = await readStream(fx.nc, fx.eventsStream);
    const found = messages.find((m) => m.json<{ id: string }>().id === id);
    if (!found) throw new Error(`event ${id} is not in the stream`);
    return new TextDecoder().decode(found.data);
  }

  async function accepted(body: string, headers: Record<string, string> = {}): Promise<void> {
    expect((await post(body, 'application/cloudevents+json', headers)).status).toBe(202);
  }

  test('a structured event that validation left alone is stored exactly as received', async () => {
    const body = JSON.stringify({ ...minimal('raw-1'), data: { a: [1, 2] } }, null, 2);
    await accepted(body);
    expect(await storedPayload('raw-1')).toBe(body);
  });

  test('an event the gateway changed is stored as the changed event', async () => {
    await accepted(JSON.stringify({ ...minimal('raw-2'), region: null }));
    expect(JSON.parse(await storedPayload('raw-2'))).toEqual(minimal('raw-2'));

    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const plain = JSON.stringify(minimal('raw-3'));
    await accepted(plain, { traceparent });
    // The adopted trace goes in front of the received bytes; nothing else is re-serialised.
    expect(await storedPayload('raw-3')).toBe(`{"traceparent":"${traceparent}",${plain.slice(1)}`);

    await accepted(JSON.stringify({ ...minimal('raw-4'), delay: '0s' }));
    expect(JSON.parse(await storedPayload('raw-4'))).not.toHaveProperty('delay');
  });
});

describe('responses', () => {
  test('202 only after the event is stored; same source+id again is a duplicate stored once', async () => {
    const event = JSON.stringify({
      specversion: '1.0',
      id: 'dup-1',
      source: '/dedupe',
      type: 'com.example.x',
    });
    const first = await post(event, 'application/cloudevents+json');
    expect(first).toMatchObject({ status: 202, body: { id: 'dup-1', status: 'accepted' } });
    const second = await post(event, 'application/cloudevents+json');
    expect(second).toMatchObject({ status: 202, body: { id: 'dup-1', status: 'duplicate' } });
    // the same id from another source is another event
    const other = await post(event.replace('/dedupe', '/dedupe-2'), 'application/cloudevents+json');
    expect(other.body.status).toBe('accepted');
    const stored = (await storedEvents()).filter((e) => e.id === 'dup-1');
    expect(stored.map((e) => e.source).sort()).toEqual(['/dedupe', '/dedupe-2']);
  });

  test('batch mode: good entries accepted, each bad one reported, in order', async () => {
    const batch = [
      { specversion: '1.0', id: 'b-1', source: '/batch', type: 'com.example.x', data: { n: 1 } },
      { specversion: '1.0', id: 'b-2', source: '/batch' }, // no type
      {
        specversion: '1.0',
        id: 'b-3',
        source: '/batch',
        type: 'com.example.order.placed',
        data: { orderId: 7 },
      },
      { specversion: '1.0', id: 'b-1', source: '/batch', type: 'com.example.x', data: { n: 1 } }, // duplicate
      { specversion: '1.0', id: 'b-4', source: '/batch', type: 'com.example.x', data: { n: 4 } },
    ];
    const res = await post(JSON.stringify(batch), 'application/cloudevents-batch+json');
    expect(res.status).toBe(207);
    expect(res.body.failedCount).toBe(2);
    const statuses = res.body.results.map((r: { id: string; status: string }) => [r.id, r.status]);
    expect(statuses).toEqual([
      ['b-1', 'accepted'],
      ['b-2', 'rejected'],
      ['b-3', 'rejected'],
      // both b-1 entries race inside one batch: exactly one of them is the stored one
      ['b-1', expect.stringMatching(/accepted|duplicate/)],
      ['b-4', 'accepted'],
    ]);
    expect(res.body.results[1].error).toMatchObject({
      code: 'FUZE_INVALID_EVENT',
      errors: [{ pointer: 'type' }],
    });
    expect(res.body.results[2].error).toMatchObject({ code: 'FUZE_INVALID_DATA' });
    expect(res.body.results[2].error.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual([
      'data.orderId',
      'data.total',
    ]);
    const stored = (await storedEvents()).filter((e) => e.source === '/batch').map((e) => e.id);
    expect(stored.sort()).toEqual(['b-1', 'b-4']);
  });

  test('a batch where every entry is fine answers 202', async () => {
    const batch = [1, 2, 3].map((n) => ({
      specversion: '1.0',
      id: `ok-${n}`,
      source: '/batch-ok',
      type: 't',
    }));
    const res = await post(JSON.stringify(batch), 'application/cloudevents-batch+json');
    expect(res).toMatchObject({ status: 202, body: { failedCount: 0 } });
  });

  test('named buses get their own subject', async () => {
    const res = await fetch(`${fx.gatewayUrl}/v1/buses/payments/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', id: 'bus-1', source: '/p', type: 'com.pay.done' }),
    });
    expect(res.status).toBe(202);
    const messages = await readStream(fx.nc, fx.eventsStream);
    // <prefix>.events.<bus>.<routing shard>.<type tokens>
    expect(messages.find((m) => m.json<{ id: string }>().id === 'bus-1')?.subject).toMatch(
      /^gwtest\.events\.payments\.\d+\.com\.pay\.done$/,
    );
  });
});
