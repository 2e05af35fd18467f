import { describe, expect, it } from 'vitest';
import { compileMatcher, compilePattern } from '../src/index.js';

describe('compileMatcher', () => {
  const matcher = compileMatcher([
    { id: 'orders', pattern: { type: ['com.shop.order.placed'] } },
    {
      id: 'big-orders',
      pattern: { type: ['com.shop.order.placed'], data: { total: [{ numeric: ['>=', 100] }] } },
    },
    { id: 'eu', pattern: { data: { country: [{ 'anything-but': ['US', 'CA'] }] } } },
    { id: 'everything', pattern: {} },
    { id: 'no-error', pattern: { data: { error: [{ exists: false }] } } },
    { id: 'shop-sources', pattern: { source: [{ prefix: 'shop/' }] } },
    { id: 'gift-line', pattern: { data: { lines: { sku: ['gift'], qty: [{ numeric: ['>', 1] }] } } } },
  ]);

  it('returns the ids of the matching rules, in the order the rules were given', () => {
    expect(
      matcher.match({
        type: 'com.shop.order.placed',
        source: 'shop/eu',
        data: { total: 150, country: 'FR' },
      }),
    ).toEqual(['orders', 'big-orders', 'eu', 'everything', 'no-error', 'shop-sources']);
  });

  it('returns only the rules that match', () => {
    expect(
      matcher.match({
        type: 'com.shop.order.placed',
        source: 'pos',
        data: { total: 50, country: 'US', error: 'x' },
      }),
    ).toEqual(['orders', 'everything']);
  });

  it('keeps array consistency across fields of one array of objects', () => {
    const event = {
      type: 'x',
      data: {
        lines: [
          { sku: 'gift', qty: 1 },
          { sku: 'book', qty: 3 },
        ],
      },
    };
    expect(matcher.match(event)).not.toContain('gift-line');
    expect(
      matcher.match({
        type: 'x',
        data: {
          lines: [
            { sku: 'book', qty: 1 },
            { sku: 'gift', qty: 3 },
          ],
        },
      }),
    ).toContain('gift-line');
  });

  it('returns an id once when several rules share it (event-ruler: one name, several patterns)', () => {
    const shared = compileMatcher([
      { id: 'r', pattern: { a: [1] } },
      { id: 'r', pattern: { b: [1] } },
      { id: 's', pattern: { a: [1] } },
    ]);
    expect(shared.match({ a: 1, b: 1 })).toEqual(['r', 's']);
    expect(shared.match({ b: 1 })).toEqual(['r']);
  });

  it('returns the same answer for the same event every time', () => {
    const event = { type: 'com.shop.order.placed', data: { total: 150 } };
    expect(matcher.match(event)).toEqual(matcher.match(event));
  });

  it('shares the states of conditions many rules have in common', () => {
    const rules = Array.from({ length: 100 }, (_, i) => ({
      id: `r${i}`,
      pattern: { type: ['com.shop.order.placed'], data: { total: [{ numeric: ['>', i] }] } },
    }));
    const shared = compileMatcher(rules);
    // Root, one state for the shared type condition, one per numeric threshold.
    expect(shared.stateCount).toBe(102);
    expect(shared.match({ type: 'com.shop.order.placed', data: { total: 10 } })).toHaveLength(10);
  });

  it('matches nothing with no rules', () => {
    expect(compileMatcher([]).match({ type: 'x' })).toEqual([]);
  });
});

describe('compileMatcher, states with many fields (walked by the fields an event has)', () => {
  // Nine rules on other fields make each state below have more than 8 ways on, so it is guided.
  const fillers = Array.from({ length: 9 }, (_, i) => ({ id: `g${i}`, pattern: { [`g${i}`]: ['z'] } }));
  const agree = (rules: { id: string; pattern: unknown }[], event: Record<string, unknown>) => {
    const all = [...rules, ...fillers];
    const expected = all.filter((rule) => compilePattern(rule.pattern).matches(event)).map((rule) => rule.id);
    const matcher = compileMatcher(all);
    expect(matcher.match(event)).toEqual(expected);
    expect(matcher.matchJson(JSON.stringify(event))).toEqual(expected);
    return expected;
  };

  it('an exists test beside other tests on one field still checks the value for the others', () => {
    const rules = [
      { id: 'any-a', pattern: { a: [{ exists: true }] } },
      { id: 'a-is-x', pattern: { a: ['x'] } },
    ];
    expect(agree(rules, { a: 'y' })).toEqual(['any-a']);
    expect(agree(rules, { a: 'x' })).toEqual(['any-a', 'a-is-x']);
  });

  it('an exists test followed by a condition on the same array keeps array consistency', () => {
    const rules = [
      { id: 'sku-and-qty', pattern: { items: { sku: [{ exists: true }], qty: [{ exists: true }] } } },
    ];
    expect(agree(rules, { items: [{ sku: 1 }, { qty: 1 }] })).toEqual([]);
    expect(agree(rules, { items: [{ sku: 1, qty: 1 }] })).toEqual(['sku-and-qty']);
  });

  it('an exists test reached inside an array element looks in that element only', () => {
    const rules = Array.from({ length: 9 }, (_, i) => ({
      id: `kind-and-f${i}`,
      pattern: { items: { kind: ['a'], [`f${i}`]: [{ exists: true }] } },
    }));
    expect(agree(rules, { items: [{ kind: 'a' }, { f0: 1 }] })).toEqual([]);
    expect(agree(rules, { items: [{ kind: 'a', f3: null }] })).toEqual(['kind-and-f3']);
  });
});
