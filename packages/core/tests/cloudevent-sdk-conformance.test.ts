import { CloudEvent } from 'cloudevents';
import { describe, expect, test } from 'vitest';
import { assertValidCloudEvent, type CloudEventRecord } from '../src/index.js';

// The gateway validates each event once, against schemas/cloudevent.schema.json. This suite is why
// that is enough: on a corpus of valid events and of every attribute swapped for awkward values,
// each event the official CloudEvents SDK refuses is refused by the schema too.

const valid: Record<string, unknown>[] = [
  { specversion: '1.0', id: '1', source: '/orders', type: 'com.shop.order.placed' },
  {
    specversion: '1.0',
    id: 'a-2',
    source: 'https://shop.example.com/orders?region=eu',
    type: 'com.shop.order.placed',
    subject: 'order-42',
    time: '2026-11-21T08:00:00.123Z',
    datacontenttype: 'application/json',
    dataschema: 'https://schemas.example.com/order.json',
    data: { total: 12.5, items: [1, 2] },
    partitionkey: 'customer-7',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    tracestate: 'congo=t61rcWkgMzE',
    region: 'eu',
    priority: 3,
    urgent: true,
  },
  {
    specversion: '1.0',
    id: 'b',
    source: 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66',
    type: 't',
    data_base64: 'Zm9vYmFy',
    time: '2026-11-21T09:00:00+01:00',
  },
  { specversion: '1.0', id: 'c', source: 'relative/path', type: 't', data: 'text' },
  {
    specversion: '1.0',
    id: 'd',
    source: '/s',
    type: 't',
    data: [1, 'two'],
    deliverat: '2030-01-01T00:00:00Z',
  },
  { specversion: '1.0', id: 'e', source: '/s', type: 't', data: 0, delay: '1h30m' },
];

const awkward: unknown[] = [
  null,
  '',
  ' ',
  'a b',
  'UPPER',
  0,
  1.5,
  -1,
  true,
  {},
  [],
  [1],
  { nested: true },
  '2026-13-01T00:00:00Z',
  '2026-11-21',
  '2026-11-21T08:00:00',
  'yesterday',
  'http://example.com/x',
  'not a uri\\',
  '::::',
  '%zz',
  'Zm9v!',
  '0.3',
  '1.0',
];

const awkwardNames = [
  'schemaurl',
  'datacontentencoding',
  'Upper',
  'with-dash',
  'under_score',
  'x'.repeat(21),
  'é',
];

function corpus(): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [...valid];
  for (const base of valid) {
    const names = new Set([
      ...Object.keys(base),
      'time',
      'subject',
      'dataschema',
      'datacontenttype',
      'data_base64',
    ]);
    for (const name of names) {
      for (const value of awkward) events.push({ ...base, [name]: value });
      const { [name]: _, ...without } = base;
      events.push(without);
    }
    for (const name of awkwardNames)
      for (const value of ['v', 1, { a: 1 }]) events.push({ ...base, [name]: value });
  }
  return events;
}

function schemaAccepts(event: Record<string, unknown>): boolean {
  try {
    assertValidCloudEvent(structuredClone(event));
    return true;
  } catch {
    return false;
  }
}

function sdkAccepts(event: Record<string, unknown>): boolean {
  // The JSON event format reads a null attribute as absent, as the gateway does before storing.
  const stripped = Object.fromEntries(Object.entries(event).filter(([k, v]) => v !== null || k === 'data'));
  try {
    new CloudEvent(stripped as Partial<CloudEventRecord>, true);
    return true;
  } catch {
    return false;
  }
}

describe('schemas/cloudevent.schema.json against the CloudEvents SDK', () => {
  const events = corpus();

  test('the corpus is large and holds both verdicts', () => {
    expect(events.length).toBeGreaterThan(900);
    const accepted = events.filter(schemaAccepts).length;
    expect(accepted).toBeGreaterThan(50);
    expect(events.length - accepted).toBeGreaterThan(300);
  });

  test('every valid example passes both', () => {
    for (const event of valid) {
      expect(schemaAccepts(event), JSON.stringify(event)).toBe(true);
      expect(sdkAccepts(event), JSON.stringify(event)).toBe(true);
    }
  });

  test('whatever the SDK refuses, the schema refuses', () => {
    const missed = events.filter((event) => !sdkAccepts(event) && schemaAccepts(event));
    expect(missed.map((e) => JSON.stringify(e))).toEqual([]);
  });

  test('schemaurl, which the SDK throws on for a 1.0 event, is refused with a pointer to dataschema', () => {
    expect(() =>
      assertValidCloudEvent({ specversion: '1.0', id: '1', source: '/s', type: 't', schemaurl: 'https://x' }),
    ).toThrow(/schemaurl: .*dataschema/);
  });
});
