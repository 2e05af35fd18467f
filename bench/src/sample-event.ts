import { randomUUID } from 'node:crypto';
import type { CloudEventInput, CloudEventRecord } from '@fuze/core';

/** What a producer supplies; with the id and time the SDK adds, ~256 bytes of JSON. */
export const sampleInput = {
  source: '/bench/shop/orders',
  type: 'com.fuze.bench.order.placed',
  subject: 'order-0001234',
  datacontenttype: 'application/json',
  data: { orderId: 'o-0001234', customerId: 'c-0042', total: 123.45, currency: 'EUR', items: 3 },
} satisfies CloudEventInput;

export function sampleEvent(id: string = randomUUID()): CloudEventRecord {
  return { ...sampleInput, id, specversion: '1.0', time: new Date().toISOString() };
}

/**
 * The JSON of sample events with unique ids, cheap to make for the load generator: the same
 * event text with the id spliced in.
 */
export function sampleEventJson(): (id: string) => string {
  const { id: _id, ...rest } = sampleEvent('x');
  const tail = JSON.stringify(rest).slice(1);
  return (id) => `{"id":"${id}",${tail}`;
}
