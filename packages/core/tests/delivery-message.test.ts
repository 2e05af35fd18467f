import { describe, expect, test } from 'vitest';
import {
  type CloudEventRecord,
  cloudEventsJson,
  type DeliveryEnvelope,
  decodeDeliveryMessage,
  deliveryMessageId,
  encodeDeliveryHeaders,
  eventAttributes,
} from '../src/index.js';

const event: CloudEventRecord = {
  specversion: '1.0',
  id: 'e-1',
  source: '/orders',
  type: 'com.shop.order.placed',
  subject: 'crème brûlée',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  data: { total: 3 },
};

function envelopeOf(body: Uint8Array, contentType: string): DeliveryEnvelope {
  return {
    attributes: eventAttributes(event),
    body,
    contentType,
    bus: 'default',
    rule: 'r',
    target: 't',
    partitionKey: 'k/1',
    acceptedAt: 1_700_000_000_000,
    eventSeq: 7,
  };
}

function roundTrip(envelope: DeliveryEnvelope) {
  const headers = encodeDeliveryHeaders(envelope);
  const reader = { get: (name: string) => headers[name] ?? '', keys: () => Object.keys(headers) };
  return { headers, decoded: decodeDeliveryMessage(reader, envelope.body) };
}

describe('delivery messages', () => {
  test('a whole event repeats no attribute in headers; readers get them from the body', () => {
    const { headers, decoded } = roundTrip(envelopeOf(Buffer.from(JSON.stringify(event)), cloudEventsJson));
    expect(Object.keys(headers).filter((name) => name.startsWith('ce-'))).toEqual([]);
    expect(headers.traceparent).toBe(event.traceparent);
    expect(decoded.attributes).toEqual(eventAttributes(event));
    expect(decoded).toMatchObject({
      bus: 'default',
      rule: 'r',
      target: 't',
      partitionKey: 'k/1',
      eventSeq: 7,
    });
  });

  test('a transformed body carries the attributes as percent-encoded ce-* headers', () => {
    const { headers, decoded } = roundTrip(envelopeOf(Buffer.from('{"total":3}'), 'application/json'));
    expect(headers['ce-subject']).toBe('cr%C3%A8me%20br%C3%BBl%C3%A9e');
    expect(decoded.attributes).toEqual(eventAttributes(event));
  });

  test('an unreadable whole-event body yields no attributes rather than an exception', () => {
    const { decoded } = roundTrip(envelopeOf(Buffer.from('not json'), cloudEventsJson));
    expect(decoded.attributes).toEqual({});
  });

  test('delivery message ids never change across versions', () => {
    // base64url(sha256("/orders\0e-1\0r\0t"))[0..32] and with a replay job, as first released.
    expect(deliveryMessageId({ source: '/orders', id: 'e-1' }, 'r', 't')).toBe(
      'QZjij_sWLz5XSKGAlmJlO9hk1or_0zgc',
    );
    expect(deliveryMessageId({ source: '/orders', id: 'e-1' }, 'r', 't', 'job-1')).toBe(
      'F94SL5ws6zvi_0RmIanS64EMVsrl_Dcv',
    );
  });
});
