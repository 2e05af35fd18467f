import { describe, expect, it } from 'vitest';
import { compilePattern } from '../src/index.js';

describe('explain', () => {
  const pattern = compilePattern({
    type: ['com.shop.order.placed'],
    data: { total: [{ numeric: ['>=', 100] }], currency: ['EUR', 'USD'] },
  });

  it('says matched when the event matches, agreeing with matches()', () => {
    const event = { type: 'com.shop.order.placed', data: { total: 120, currency: 'EUR' } };
    expect(pattern.matches(event)).toBe(true);
    expect(pattern.explain(event)).toEqual({ matched: true });
  });

  it('names the failing field and the unmet condition', () => {
    const event = { type: 'com.shop.order.placed', data: { total: 42, currency: 'EUR' } };
    expect(pattern.explain(event)).toEqual({
      matched: false,
      path: 'data.total',
      reason: 'numeric [">=",100] not satisfied by 42',
    });
  });

  it('reports a missing field', () => {
    expect(pattern.explain({ type: 'com.shop.order.placed', data: { total: 150 } })).toEqual({
      matched: false,
      path: 'data.currency',
      reason: 'field is missing',
    });
  });

  it('lists alternatives and every value of an event array', () => {
    const explanation = pattern.explain({
      type: 'com.shop.order.placed',
      data: { total: 150, currency: ['GBP', 'CHF'] },
    });
    expect(explanation).toEqual({
      matched: false,
      path: 'data.currency',
      reason: '"EUR" or "USD" not satisfied by ["GBP","CHF"]',
    });
  });

  it('explains exists: false on a present field', () => {
    const absent = compilePattern({ data: { error: [{ exists: false }] } });
    expect(absent.explain({ data: { error: null } })).toEqual({
      matched: false,
      path: 'data.error',
      reason: 'exists false not satisfied: the field has the value null',
    });
  });

  it('explains an array-consistency failure', () => {
    const items = compilePattern({ data: { items: { sku: ['a'], qty: [5] } } });
    const explanation = items.explain({
      data: {
        items: [
          { sku: 'a', qty: 1 },
          { sku: 'b', qty: 5 },
        ],
      },
    });
    expect(explanation.matched).toBe(false);
    if (!explanation.matched) expect(explanation.reason).toContain('array consistency');
  });

  it('follows the $or combination that got furthest', () => {
    const either = compilePattern({
      type: ['t'],
      $or: [{ data: { a: [1] } }, { data: { b: [{ prefix: 'x' }], c: [true] } }],
    });
    expect(either.explain({ type: 't', data: { b: 'xy', c: false } })).toEqual({
      matched: false,
      path: 'data.c',
      reason: 'true not satisfied by false',
    });
  });
});
