import { seededRandom } from '@fuze/test/harness';
import { describe, expect, test } from 'vitest';
import { acceptsCommonEnvelope } from '../src/cloudevent/common-envelope.js';
import { assertValidCloudEvent, cloudEventSchema, createAjv } from '../src/index.js';

// acceptsCommonEnvelope answers "certainly valid" for plain events so the gateway can skip ajv;
// it must never say so of an event the schema refuses. This holds it to the compiled schema's own
// answers on plain events and on thousands of generated ones, valid and not.

const ajv = createAjv();
const schemaAccepts = ajv.compile(cloudEventSchema);
const uriReference = ajv.formats['uri-reference'] as RegExp;
const isUriReference = (text: string) => uriReference.test(text);

const plain = {
  specversion: '1.0',
  id: 'evt-1',
  source: '/orders',
  type: 'com.shop.order.placed',
  time: '2026-11-21T08:00:00.123Z',
  datacontenttype: 'application/json',
  subject: 'order-42',
  partitionkey: 'customer-7',
  region: 'eu',
  priority: 3,
  urgent: true,
  data: { total: 12.5, items: [1, 2], note: null },
};

describe('acceptsCommonEnvelope', () => {
  test('accepts the plain events services send, which the schema accepts too', () => {
    for (const event of [
      plain,
      { specversion: '1.0', id: '1', source: 'https://shop.example.com/orders?region=eu', type: 't' },
      { specversion: '1.0', id: '1', source: 'urn:shop:orders', type: 't', data: 'text' },
    ]) {
      expect(acceptsCommonEnvelope(event, isUriReference)).toBe(true);
      expect(schemaAccepts(event)).toBe(true);
    }
  });

  test('leaves rarer attributes and doubtful values to the schema', () => {
    const unsure: Record<string, unknown>[] = [
      { ...plain, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      { ...plain, dataschema: 'https://schemas.example.com/order.json' },
      { ...plain, data: undefined, data_base64: 'AAEC' },
      { ...plain, subject: null },
      { ...plain, region: null },
      { ...plain, Region: 'eu' },
      { ...plain, source: 'not a uri' },
      { ...plain, time: '2026-02-30T08:00:00Z' },
      { ...plain, priority: 1.5 },
      { ...plain, specversion: '0.3' },
      { ...plain, id: '' },
      { ...plain, tags: ['a'] },
      { specversion: '1.0', id: '1', source: '/x' },
      // JSON.parse makes `__proto__` an own attribute, as a request body would.
      JSON.parse('{"specversion":"1.0","id":"1","source":"/x","type":"t","__proto__":"x"}'),
    ];
    for (const event of unsure) expect(acceptsCommonEnvelope(event, isUriReference)).toBe(false);
  });

  test('never accepts an event the schema refuses (5,000 generated events)', () => {
    const random = seededRandom(20261121);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const names = [
      'id',
      'source',
      'specversion',
      'type',
      'time',
      'datacontenttype',
      'subject',
      'partitionkey',
      'data',
      'dataschema',
      'data_base64',
      'traceparent',
      'tracestate',
      'deliverat',
      'delay',
      'schemaurl',
      'region',
      'x1',
      'a'.repeat(20),
      'a'.repeat(21),
      'Upper',
      'has-dash',
      'under_score',
      '',
      '__proto__',
      'é',
    ] as const;
    const values = [
      'eu',
      '',
      ' ',
      '/orders',
      'https://a.example/b?c=d#e',
      'not a uri',
      '%zz',
      '1.0',
      '0.3',
      '2026-11-21T08:00:00Z',
      '2026-11-21T08:00:00.5+01:00',
      '2026-13-01T00:00:00Z',
      '2026-11-21',
      'AAEC',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '5m',
      0,
      7,
      -3,
      1.5,
      Number.MAX_SAFE_INTEGER,
      true,
      false,
      null,
      [],
      ['a'],
      {},
      { total: 1 },
    ] as const;
    let accepted = 0;
    for (let i = 0; i < 5_000; i++) {
      const event: Record<string, unknown> =
        random() < 0.7 ? { specversion: '1.0', id: `e-${i}`, source: '/orders', type: 'com.shop.x' } : {};
      const extra = Math.floor(random() * 5);
      for (let j = 0; j < extra; j++) event[pick(names)] = pick(values);
      if (acceptsCommonEnvelope(event, isUriReference)) {
        accepted++;
        expect({ event, schema: schemaAccepts(event) }).toEqual({ event, schema: true });
      }
    }
    // The generator must reach both answers, or this test proves nothing.
    expect(accepted).toBeGreaterThan(500);
    expect(accepted).toBeLessThan(4_500);
  });

  test('assertValidCloudEvent still names what is wrong with an event it refuses', () => {
    expect(() => assertValidCloudEvent({ ...plain, priority: 1.5 })).toThrow(/priority/);
    expect(() => assertValidCloudEvent({ ...plain, source: 'not a uri' })).toThrow(/source/);
  });
});
