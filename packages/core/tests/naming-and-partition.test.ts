import { describe, expect, test } from 'vitest';
import {
  busOfEventSubject,
  eventMessageId,
  eventSubject,
  parseDuration,
  parseJsonPath,
  partitionFor,
  routingKeyOf,
  routingShardOf,
  subjectTokens,
} from '../src/index.js';

describe('subjects', () => {
  test('event types become subject tokens; reserved characters are replaced', () => {
    expect(eventSubject('FUZE', 'default', 3, 'com.shop.order.placed')).toBe(
      'fuze.events.default.3.com.shop.order.placed',
    );
    expect(subjectTokens('a b.*.>..x')).toBe('a_b._._._.x');
    expect(busOfEventSubject('FUZE', 'fuze.events.payments.0.com.x')).toBe('payments');
  });

  test('routing shard follows partitionkey, else subject, else source', () => {
    const base = { specversion: '1.0' as const, id: '1', type: 't', source: '/s' };
    const byKey = routingShardOf({ ...base, partitionkey: 'k', subject: 'x' }, 16);
    expect(routingShardOf({ ...base, id: '2', source: '/other', partitionkey: 'k' }, 16)).toBe(byKey);
    expect(routingShardOf({ ...base, subject: 'k' }, 16)).toBe(byKey);
    expect(routingShardOf({ ...base, source: 'k' }, 16)).toBe(byKey);
    expect(byKey).toBe(partitionFor('k', 16));
    // A non-string attribute is no key: the next in line is (as before bus ordering keys).
    expect(routingKeyOf({ ...base, partitionkey: 7 as unknown as string, subject: 'k' })).toBe('k');
  });

  test("a bus's ordering key comes first, read as the router reads ordering.partitionKey", () => {
    const path = parseJsonPath('$.data.customer.id');
    if (!path.ok) throw new Error(path.message);
    const base = { specversion: '1.0' as const, id: '1', type: 't', source: '/s', partitionkey: 'p' };
    expect(routingKeyOf({ ...base, data: { customer: { id: 'c-1' } } }, path.path)).toBe('c-1');
    expect(routingKeyOf({ ...base, data: { customer: { id: 42 } } }, path.path)).toBe('42');
    // Without a value at the path (or an empty one), the attributes decide as before.
    expect(routingKeyOf({ ...base, data: { customer: { id: '' } } }, path.path)).toBe('p');
    expect(routingKeyOf({ ...base, data: 'text' }, path.path)).toBe('p');
    expect(routingKeyOf({ ...base, partitionkey: undefined }, path.path)).toBe('/s');
    const a = { ...base, source: '/a', partitionkey: 'x', data: { customer: { id: 'c-9' } } };
    const b = { ...base, source: '/b', subject: 'y', data: { customer: { id: 'c-9' } } };
    expect(routingShardOf(a, 64, path.path)).toBe(routingShardOf(b, 64, path.path));
    expect(routingShardOf(a, 64, path.path)).toBe(partitionFor('c-9', 64));
  });
});

describe('eventMessageId', () => {
  test('is stable per source+id and separates the two', () => {
    expect(eventMessageId('/a', '1')).toBe(eventMessageId('/a', '1'));
    expect(eventMessageId('/a', '1')).not.toBe(eventMessageId('/a1', ''));
    expect(eventMessageId('/a', '1')).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  test('never changes across versions: stored events dedupe against it', () => {
    // base64url(sha256("/orders\0é-1"))[0..32], as the first release computed it.
    expect(eventMessageId('/orders', 'é-1')).toBe('B0SrCGRKMOihZwGcL-rQfwjOIsr7iBWd');
  });
});

describe('partitionFor', () => {
  test('is FNV-1a 32-bit mod n, as nats-server partition() computes it', () => {
    // FNV-1a("a") = 0xe40c292c; FNV-1a("foobar") = 0xbf9cf968 (reference vectors)
    expect(partitionFor('a', 2 ** 31)).toBe(0xe40c292c % 2 ** 31);
    expect(partitionFor('foobar', 1000)).toBe(0xbf9cf968 % 1000);
    expect(partitionFor('', 7)).toBe(0x811c9dc5 % 7);
  });

  test('hashes the UTF-8 bytes of a non-ASCII key', () => {
    // FNV-1a over the 11 UTF-8 bytes of "ключ-7".
    expect(partitionFor('ключ-7', 2 ** 31)).toBe(0x4fc701e9 % 2 ** 31);
  });

  test('spreads keys over partitions', () => {
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[partitionFor(`customer-${i}`, 16)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});

describe('parseDuration', () => {
  test.each([
    ['10ms', 10],
    ['5s', 5_000],
    ['5m', 300_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  test.each([['5'], ['5 minutes'], [''], ['-1s'], ['1w']])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/duration/);
  });
});
